"""genlab.dynamics."""
