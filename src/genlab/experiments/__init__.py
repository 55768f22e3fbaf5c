"""genlab.experiments."""
