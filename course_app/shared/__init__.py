"""Building blocks shared by features: pagination and common response models."""
