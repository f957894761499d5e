"""Evaluation of trained voices: intelligibility (word error rate of an offline recogniser)."""
