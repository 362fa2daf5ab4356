"""The leaf below the features: the services handlers and jobs are given, domain events, typed keys."""
