"""Helper processes for the fault tests (`tests/test_faults.py`)."""
