"""Plausible wrong answers for lab 02: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "2.1": [
        # the seed's mistake: environment is a free string, any typo is accepted
        """
        class ShopSettings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="SHOP_", extra="ignore")

            environment: str = "development"
            db_pool_size: int = Field(default=5, ge=1, le=50)
            payment_api_key: SecretStr | None = None
        """,
        # forgot the prefix: reads ENVIRONMENT / DB_POOL_SIZE of every other program
        """
        class ShopSettings(BaseSettings):
            model_config = SettingsConfigDict(extra="ignore")

            environment: Literal["development", "staging", "production"] = "development"
            db_pool_size: int = Field(default=5, ge=1, le=50)
            payment_api_key: SecretStr | None = None
        """,
        # off by one at the lower bound: a pool of 0 connections is accepted
        """
        class ShopSettings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="SHOP_", extra="ignore")

            environment: Literal["development", "staging", "production"] = "development"
            db_pool_size: int = Field(default=5, ge=0, le=50)
            payment_api_key: SecretStr | None = None
        """,
        # exclusive bounds: 1 and 50 are refused
        """
        class ShopSettings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="SHOP_", extra="ignore")

            environment: Literal["development", "staging", "production"] = "development"
            db_pool_size: int = Field(default=5, gt=1, lt=50)
            payment_api_key: SecretStr | None = None
        """,
        # no upper bound
        """
        class ShopSettings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="SHOP_", extra="ignore")

            environment: Literal["development", "staging", "production"] = "development"
            db_pool_size: int = Field(default=5, ge=1)
            payment_api_key: SecretStr | None = None
        """,
        # the key as a plain str: it shows up in every repr and log line
        """
        class ShopSettings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="SHOP_", extra="ignore")

            environment: Literal["development", "staging", "production"] = "development"
            db_pool_size: int = Field(default=5, ge=1, le=50)
            payment_api_key: str | None = None
        """,
        # a BaseModel: validates, but never reads the environment
        """
        class ShopSettings(BaseModel):
            environment: Literal["development", "staging", "production"] = "development"
            db_pool_size: int = Field(default=5, ge=1, le=50)
            payment_api_key: SecretStr | None = None
        """,
    ],
    "2.2": [
        # top level only: nested sections and lists keep their secrets
        """
        return {
            key: MASK
            if isinstance(value, SecretStr | SecretBytes)
            or any(word in key.lower() for word in SENSITIVE_WORDS)
            else value
            for key, value in data.items()
        }
        """,
        # case-sensitive match: "X-API-Key" and "DB_PASSWORD" slip through
        """
        def clean(value):
            if isinstance(value, SecretStr | SecretBytes):
                return MASK
            if isinstance(value, Mapping):
                return {
                    key: MASK if any(word in str(key) for word in SENSITIVE_WORDS) else clean(item)
                    for key, item in value.items()
                }
            if isinstance(value, list | tuple):
                return [clean(item) for item in value]
            return value

        return clean(dict(data))
        """,
        # exact key names only: "jwt_secret" and "refresh_token" slip through
        """
        def clean(value):
            if isinstance(value, SecretStr | SecretBytes):
                return MASK
            if isinstance(value, Mapping):
                return {
                    key: MASK if str(key).lower() in SENSITIVE_WORDS else clean(item)
                    for key, item in value.items()
                }
            if isinstance(value, list | tuple):
                return [clean(item) for item in value]
            return value

        return clean(dict(data))
        """,
        # keys only: a SecretStr under an innocent key is returned as the object
        """
        def clean(value):
            if isinstance(value, Mapping):
                return {
                    key: MASK
                    if any(word in str(key).lower() for word in SENSITIVE_WORDS)
                    else clean(item)
                    for key, item in value.items()
                }
            if isinstance(value, list | tuple):
                return [clean(item) for item in value]
            return value

        return clean(dict(data))
        """,
        # masks in place: the caller's dictionary loses its real values
        """
        def clean(value):
            if isinstance(value, dict):
                for key, item in value.items():
                    sensitive = any(word in str(key).lower() for word in SENSITIVE_WORDS)
                    if sensitive or isinstance(item, SecretStr | SecretBytes):
                        value[key] = MASK
                    else:
                        value[key] = clean(item)
            elif isinstance(value, list | tuple):
                return [clean(item) for item in value]
            return value

        return clean(data)
        """,
        # recurses into mappings but not into lists
        """
        def clean(value):
            if isinstance(value, SecretStr | SecretBytes):
                return MASK
            if isinstance(value, Mapping):
                return {
                    key: MASK
                    if any(word in str(key).lower() for word in SENSITIVE_WORDS)
                    else clean(item)
                    for key, item in value.items()
                }
            return value

        return clean(dict(data))
        """,
    ],
    "2.3": [
        # reads app.state directly: dependency_overrides has nothing to override
        """
        app = create_app(settings)

        @app.get("/config")
        def read_config(request: Request) -> PublicConfig:
            current = request.app.state.settings
            return PublicConfig(
                app_name=current.app_name,
                environment=current.environment,
                debug=current.debug,
                docs=current.serve_docs,
                cors_origins=current.cors_origins,
                access_token_expire_minutes=current.access_token_expire_minutes,
            )

        return app
        """,
        # the build_app argument captured in a closure: same problem
        """
        app = create_app(settings)

        @app.get("/config")
        def read_config() -> PublicConfig:
            return PublicConfig(
                app_name=settings.app_name,
                environment=settings.environment,
                debug=settings.debug,
                docs=settings.serve_docs,
                cors_origins=settings.cors_origins,
                access_token_expire_minutes=settings.access_token_expire_minutes,
            )

        return app
        """,
        # the process-wide get_settings(): the environment's settings, not the app's
        """
        from course_app.config import get_settings

        app = create_app(settings)

        @app.get("/config")
        def read_config(current: Annotated[Settings, Depends(get_settings)]) -> PublicConfig:
            return PublicConfig(
                app_name=current.app_name,
                environment=current.environment,
                debug=current.debug,
                docs=current.serve_docs,
                cors_origins=current.cors_origins,
                access_token_expire_minutes=current.access_token_expire_minutes,
            )

        return app
        """,
        # dumps everything: secrets are masked, but they are not public configuration
        """
        app = create_app(settings)

        @app.get("/config")
        def read_config(current: Annotated[Settings, Depends(current_settings)]) -> dict:
            return current.model_dump(mode="json")

        return app
        """,
        # a fresh FastAPI(): /config works, but /health and the error handlers are gone
        """
        app = FastAPI()
        app.state.settings = settings

        @app.get("/config")
        def read_config(current: Annotated[Settings, Depends(current_settings)]) -> PublicConfig:
            return PublicConfig(
                app_name=current.app_name,
                environment=current.environment,
                debug=current.debug,
                docs=current.serve_docs,
                cors_origins=current.cors_origins,
                access_token_expire_minutes=current.access_token_expire_minutes,
            )

        return app
        """,
        # docs from the raw field: None unless set, so the endpoint fails
        """
        app = create_app(settings)

        @app.get("/config")
        def read_config(current: Annotated[Settings, Depends(current_settings)]) -> PublicConfig:
            return PublicConfig(
                app_name=current.app_name,
                environment=current.environment,
                debug=current.debug,
                docs=current.docs_enabled,
                cors_origins=current.cors_origins,
                access_token_expire_minutes=current.access_token_expire_minutes,
            )

        return app
        """,
    ],
    "2.4": [
        # the seeds' configuration: a wildcard with credentials echoes every origin
        """
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
        """,
        # the list from settings, but '*' still goes out with credentials
        """
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
        """,
        # hard-coded production origins: staging is locked out
        """
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["https://shop.example", "https://admin.shop.example"],
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
        """,
        # no credentials: the logged-in front end cannot send its cookie
        """
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
        """,
        # Starlette's default methods and headers: only GET, no Authorization header
        """
        wildcard = "*" in settings.cors_origins
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"] if wildcard else settings.cors_origins,
            allow_credentials=not wildcard,
        )
        """,
        # CORS only in production: staging's front end is refused
        """
        if settings.environment is Environment.PRODUCTION:
            app.add_middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_credentials=True,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type"],
            )
        """,
    ],
}
