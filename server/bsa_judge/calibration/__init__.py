"""Calibration: a judge's labels against gold labels (accuracy, precision, recall, kappa)."""
