"""Members' questions in a served group (草莓还有吗? 几点自提? 鸡蛋碎了三个) → one short answer from live data.

Everything else gets silence: chatter, thanks, questions between members, questions the bot cannot own. The same
question in a group inside `window` is answered once. An after-sales complaint also notes the leader (`leader_note`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from bot.domain.question_answers import Asker, answer, subject_of
from bot.domain.subject import buys_named
from bot.events import Kind, Outbound
from bot.parsing.question import Understanding, question_reader
from storage.models import OutboundMessage

if TYPE_CHECKING:
    from bot.config import Group
    from bot.core.services import Services
    from bot.dispatch import Context
    from bot.events import Inbound

_MAX_LEN = 200  # announcements and stories are longer; the classifier itself stops at 80 characters
_UNSURE_FLOOR = 0.3  # below this a "maybe question" is not worth the leader's attention either


def mentions_bot(services: Services, event: Inbound) -> bool:
    name = services.config.bot.name
    ids = {i for i in (services.self_id, name) if i}
    return bool(ids & set(event.mentions)) or f"@{name}" in event.text


def read_question(services: Services, group: Group, event: Inbound) -> Understanding:
    """The classifier on one message, as the handler runs it (also used by `tuanbot ask`)."""
    config = services.config
    matcher = services.product_matcher()
    reader = question_reader(matcher, config.faq, config.bot.name, tuple(b.title for b in config.buys))
    text = event.text
    # A buy's title that holds no word the catalogue knows (`早餐组合几点截单`) is read as 这个团: the reader knows
    # products, not titles, and would take it for another topic. The answer finds the buy in the text as written.
    for buy in buys_named(config, group.name, text, services.clock.now()):
        if buy.title in text and not matcher.find_all(buy.title):
            text = text.replace(buy.title, "这个团")
    return reader.understand(text, mentioned=mentions_bot(services, event), leaders=group.leaders)


class Questions:
    name = "questions"

    def __init__(
        self,
        *,
        window: timedelta = timedelta(minutes=3),
        unsure: Literal["silence", "leader_note"] | None = None,
    ) -> None:
        self.window = window  # the same (group, intent, product) inside this window gets one answer
        self.unsure = unsure  # a low-confidence question: silence, or a note to the leader (default: the config's)

    def wants(self, ctx: Context) -> bool:
        """The catch-all route: any short text the routes before it (接龙, flash claims, commands) did not take."""
        text = ctx.event.text.strip()
        return ctx.event.kind == Kind.TEXT and 0 < len(text) <= _MAX_LEN

    async def handle(self, ctx: Context) -> None:
        services = ctx.services
        event = ctx.event
        understanding = read_question(services, ctx.group, event)
        if not understanding.answerable:
            if understanding.intent is not None:
                ctx.log.info(
                    "question_ignored",
                    intent=understanding.intent,
                    product=understanding.product,
                    confidence=understanding.confidence,
                )
                unsure = self.unsure or services.config.questions.when_unsure
                if unsure == "leader_note" and understanding.confidence >= _UNSURE_FLOOR and ctx.group.leaders:
                    ctx.log.info(
                        "leader_note",
                        reason="unsure_question",
                        leaders=list(ctx.group.leaders),
                        intent=understanding.intent,
                        text=event.text[:200],
                    )
                    leaders = " ".join(f"@{name}" for name in ctx.group.leaders)
                    await services.sender.enqueue(
                        Outbound(
                            event.room_id,
                            f"{leaders} {event.sender_name}问「{event.text[:40]}」,小团拿不准,麻烦团长看一下~",
                        ),
                        group=ctx.group.name,
                        kind="leader_note",
                        key=f"note:{event.msg_id}",
                    )
            return
        now = services.clock.now()
        about = subject_of(services.config, ctx.group.name, now, understanding.product, event.text)
        product = about.product or (about.buy.items[0].product if about.buy and about.buy.items else None)
        buys = ",".join(b.id for b in about.buys)
        topic = f"q:{ctx.group.name}:{understanding.intent}:{product or ''}:{buys}"
        if understanding.intent in ("after_sales", "my_orders"):
            topic += f":{event.sender_id}"  # two members' complaints are two complaints, and their orders their own
        async with services.db.sessions() as session:
            recent = await session.scalar(
                select(OutboundMessage.id)
                .where(OutboundMessage.coalesce_key == topic, OutboundMessage.created_at >= now - self.window)
                .limit(1)
            )
        if recent is not None:
            ctx.log.info("question_deduped", intent=understanding.intent, product=product)
            return
        text = await answer(
            services,
            ctx.group.name,
            understanding,
            now,
            text=event.text,
            asker=Asker(event.sender_id, event.sender_name),
        )
        if text is None:
            ctx.log.info("question_unanswerable", intent=understanding.intent, product=product)
            return
        queued = await services.sender.enqueue(
            Outbound(event.room_id, text, mentions=(event.sender_id,)),
            group=ctx.group.name,
            kind="reply",
            key=f"reply:{event.msg_id}",
            coalesce_key=topic,
        )
        ctx.log.info(
            "question_answered",
            intent=understanding.intent,
            product=product,
            confidence=understanding.confidence,
            queued=queued.will_send,  # False: the sender held it back (the same text said a moment ago)
        )
        if understanding.intent == "after_sales":
            ctx.log.info(
                "leader_note",
                reason="after_sales",
                leaders=list(ctx.group.leaders),
                member=event.sender_name,
                product=product,
                text=event.text[:200],
            )
