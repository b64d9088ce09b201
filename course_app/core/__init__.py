"""Cross-cutting infrastructure: config-driven database, errors, logging, and (as the
course grows) security, middleware, caching and rate limiting. Features depend on
``core``; ``core`` never imports a feature."""
