"""Match ML learners with beginner-friendly open-source issues that fit their skills and niche."""

__version__ = "0.1.0"
