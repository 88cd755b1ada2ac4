"""Indicators: definitions as data (``definitions``), the rows they read (``sources``) and the one
evaluator that computes and suppresses them (``evaluator``)."""
