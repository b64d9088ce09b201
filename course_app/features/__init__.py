"""Feature packages, one per domain (seed 000 architecture rule 1: group by domain).

Each feature owns ``router.py`` (thin HTTP layer), ``schemas.py`` (Pydantic at the
boundary), ``service.py`` (business logic), ``repository.py`` (queries),
``models.py`` (ORM), ``dependencies.py`` and ``exceptions.py``."""
