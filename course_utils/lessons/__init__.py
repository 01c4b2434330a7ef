"""One module per lesson (`lNN_slug.py`) holding that lesson's graded exercises."""
