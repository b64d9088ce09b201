"""course_app: the reference production FastAPI app that the course builds."""

__version__ = "0.1.0"
