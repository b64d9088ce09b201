"""Plausible wrong answers for lab 03: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "3.1": [
        # Pydantic's default extra="ignore": approved/author_id silently dropped
        """
        class ReviewCreate(BaseModel):
            model_config = ConfigDict(
                str_strip_whitespace=True,
                json_schema_extra={"examples": [{"rating": 5, "title": "Keeps tea hot"}]},
            )

            rating: int = Field(ge=1, le=5)
            title: str = Field(min_length=1, max_length=80, pattern=NO_CONTROL_CHARS)
            body: str = Field(default="", max_length=2000)
        """,
        # no stripping: a title of only spaces passes min_length=1
        """
        class ReviewCreate(BaseModel):
            model_config = ConfigDict(
                extra="forbid",
                json_schema_extra={"examples": [{"rating": 5, "title": "Keeps tea hot"}]},
            )

            rating: int = Field(ge=1, le=5)
            title: str = Field(min_length=1, max_length=80, pattern=NO_CONTROL_CHARS)
            body: str = Field(default="", max_length=2000)
        """,
        # exclusive bounds: ratings 1 and 5 refused
        """
        class ReviewCreate(BaseModel):
            model_config = ConfigDict(
                extra="forbid",
                str_strip_whitespace=True,
                json_schema_extra={"examples": [{"rating": 5, "title": "Keeps tea hot"}]},
            )

            rating: int = Field(gt=1, lt=5)
            title: str = Field(min_length=1, max_length=80, pattern=NO_CONTROL_CHARS)
            body: str = Field(default="", max_length=2000)
        """,
        # lengths only: control characters get through
        """
        class ReviewCreate(BaseModel):
            model_config = ConfigDict(
                extra="forbid",
                str_strip_whitespace=True,
                json_schema_extra={"examples": [{"rating": 5, "title": "Keeps tea hot"}]},
            )

            rating: int = Field(ge=1, le=5)
            title: str = Field(min_length=1, max_length=80)
            body: str = Field(default="", max_length=2000)
        """,
        # the limits in a validator: they work, but OpenAPI does not show them
        """
        from pydantic import model_validator

        class ReviewCreate(BaseModel):
            model_config = ConfigDict(
                extra="forbid",
                str_strip_whitespace=True,
                json_schema_extra={"examples": [{"rating": 5, "title": "Keeps tea hot"}]},
            )

            rating: int
            title: str = Field(pattern=NO_CONTROL_CHARS)
            body: str = ""

            @model_validator(mode="after")
            def _limits(self):
                if not 1 <= self.rating <= 5:
                    raise ValueError("rating must be 1..5")
                if not 1 <= len(self.title) <= 80 or len(self.body) > 2000:
                    raise ValueError("too long")
                return self
        """,
        # a stale example: the rating scale used to go to 10
        """
        class ReviewCreate(BaseModel):
            model_config = ConfigDict(
                extra="forbid",
                str_strip_whitespace=True,
                json_schema_extra={"examples": [{"rating": 9, "title": "Keeps tea hot"}]},
            )

            rating: int = Field(ge=1, le=5)
            title: str = Field(min_length=1, max_length=80, pattern=NO_CONTROL_CHARS)
            body: str = Field(default="", max_length=2000)
        """,
    ],
    "3.2": [
        # the v1 decorator imported from pydantic: works, deprecated, gone in v3
        """
        from pydantic import validator

        class Coupon(BaseModel):
            model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)

            code: Annotated[str, Field(min_length=4, max_length=20)]
            percent_off: Annotated[int, Field(ge=1, le=90)]
            max_uses: Annotated[int, Field(ge=1)] | None = None

            @validator("code")
            def code_is_alphanumeric(cls, value):
                if not value.isalnum():
                    raise ValueError("letters and digits only")
                return value.upper()


        def export_coupons(rows):
            return [Coupon.model_validate(row).model_dump() for row in rows]
        """,
        # the v1 Config class kept: orm_mode and anystr_strip_whitespace do nothing in v2
        """
        class Coupon(BaseModel):
            code: Annotated[str, Field(min_length=4, max_length=20)]
            percent_off: Annotated[int, Field(ge=1, le=90)]
            max_uses: Annotated[int, Field(ge=1)] | None = None

            class Config:
                orm_mode = True
                anystr_strip_whitespace = True

            @field_validator("code")
            @classmethod
            def code_is_alphanumeric(cls, value):
                if not value.isalnum():
                    raise ValueError("letters and digits only")
                return value.upper()


        def export_coupons(rows):
            return [Coupon.model_validate(row).model_dump() for row in rows]
        """,
        # the model migrated, the function not: from_orm/dict still run, with warnings
        """
        class Coupon(BaseModel):
            model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)

            code: Annotated[str, Field(min_length=4, max_length=20)]
            percent_off: Annotated[int, Field(ge=1, le=90)]
            max_uses: Annotated[int, Field(ge=1)] | None = None

            @field_validator("code")
            @classmethod
            def code_is_alphanumeric(cls, value):
                if not value.isalnum():
                    raise ValueError("letters and digits only")
                return value.upper()


        def export_coupons(rows):
            return [Coupon.from_orm(row).dict() for row in rows]
        """,
        # from_attributes forgotten: rows are refused
        """
        class Coupon(BaseModel):
            model_config = ConfigDict(str_strip_whitespace=True)

            code: Annotated[str, Field(min_length=4, max_length=20)]
            percent_off: Annotated[int, Field(ge=1, le=90)]
            max_uses: Annotated[int, Field(ge=1)] | None = None

            @field_validator("code")
            @classmethod
            def code_is_alphanumeric(cls, value):
                if not value.isalnum():
                    raise ValueError("letters and digits only")
                return value.upper()


        def export_coupons(rows):
            return [Coupon.model_validate(row, from_attributes=True).model_dump() for row in rows]
        """,
        # a mode="before" validator: runs before stripping, so ' save10 ' is refused
        """
        class Coupon(BaseModel):
            model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)

            code: Annotated[str, Field(min_length=4, max_length=20)]
            percent_off: Annotated[int, Field(ge=1, le=90)]
            max_uses: Annotated[int, Field(ge=1)] | None = None

            @field_validator("code", mode="before")
            @classmethod
            def code_is_alphanumeric(cls, value):
                if not str(value).isalnum():
                    raise ValueError("letters and digits only")
                return str(value).upper()


        def export_coupons(rows):
            return [Coupon.model_validate(row).model_dump() for row in rows]
        """,
        # max_uses lost its bound: Optional[conint(ge=1)] became int | None
        """
        class Coupon(BaseModel):
            model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)

            code: Annotated[str, Field(min_length=4, max_length=20)]
            percent_off: Annotated[int, Field(ge=1, le=90)]
            max_uses: int | None = None

            @field_validator("code")
            @classmethod
            def code_is_alphanumeric(cls, value):
                if not value.isalnum():
                    raise ValueError("letters and digits only")
                return value.upper()


        def export_coupons(rows):
            return [Coupon.model_validate(row).model_dump() for row in rows]
        """,
    ],
    "3.3": [
        # plain properties: right in Python, missing from every response
        """
        class Slice(BaseModel, Generic[T]):
            items: list[T]
            total: int = Field(ge=0)
            offset: int = Field(ge=0)
            limit: int = Field(ge=1, le=100)

            @property
            def has_more(self):
                return self.offset + len(self.items) < self.total

            @property
            def next_offset(self):
                return self.offset + len(self.items) if self.has_more else None
        """,
        # not generic: Slice[int] is a TypeError
        """
        class Slice(BaseModel):
            items: list[Any]
            total: int = Field(ge=0)
            offset: int = Field(ge=0)
            limit: int = Field(ge=1, le=100)

            @computed_field
            @property
            def has_more(self) -> bool:
                return self.offset + len(self.items) < self.total

            @computed_field
            @property
            def next_offset(self) -> int | None:
                return self.offset + len(self.items) if self.has_more else None
        """,
        # off by one: a slice ending exactly at total claims there is more
        """
        class Slice(BaseModel, Generic[T]):
            items: list[T]
            total: int = Field(ge=0)
            offset: int = Field(ge=0)
            limit: int = Field(ge=1, le=100)

            @computed_field
            @property
            def has_more(self) -> bool:
                return self.offset + len(self.items) <= self.total

            @computed_field
            @property
            def next_offset(self) -> int | None:
                return self.offset + len(self.items) if self.has_more else None
        """,
        # next_offset from the limit, not from what came back
        """
        class Slice(BaseModel, Generic[T]):
            items: list[T]
            total: int = Field(ge=0)
            offset: int = Field(ge=0)
            limit: int = Field(ge=1, le=100)

            @computed_field
            @property
            def has_more(self) -> bool:
                return self.offset + self.limit < self.total

            @computed_field
            @property
            def next_offset(self) -> int | None:
                return self.offset + self.limit if self.has_more else None
        """,
        # stored fields filled in by a validator: a client can send its own has_more
        """
        from pydantic import model_validator

        class Slice(BaseModel, Generic[T]):
            items: list[T]
            total: int = Field(ge=0)
            offset: int = Field(ge=0)
            limit: int = Field(ge=1, le=100)
            has_more: bool = False
            next_offset: int | None = None

            @model_validator(mode="after")
            def _derive(self):
                if "has_more" not in self.model_fields_set:
                    self.has_more = self.offset + len(self.items) < self.total
                    self.next_offset = self.offset + len(self.items) if self.has_more else None
                return self
        """,
    ],
    "3.4": [
        # the owner's model: e-mail, role and status go public
        """
        from course_app.features.users.schemas import UserResponse

        PublicProfile = UserResponse

        def build_app(settings):
            app = create_app(settings)

            @app.get("/api/profiles/{user_id}")
            async def read_profile(
                user_id: Annotated[int, Path(ge=1, le=MAX_USER_ID)], service: UserServiceDep
            ) -> UserResponse:
                return await service.get_user(user_id)

            return app
        """,
        # the tutorial's bare int: 2**70 reaches SQLite and comes back as a 500
        """
        class PublicProfile(BaseModel):
            id: int
            full_name: str

        def build_app(settings):
            app = create_app(settings)

            @app.get("/api/profiles/{user_id}")
            async def read_profile(user_id: int, service: UserServiceDep) -> PublicProfile:
                user = await service.get_user(user_id)
                return PublicProfile(id=user.id, full_name=user.full_name)

            return app
        """,
        # a lower bound only
        """
        class PublicProfile(BaseModel):
            id: int
            full_name: str

        def build_app(settings):
            app = create_app(settings)

            @app.get("/api/profiles/{user_id}")
            async def read_profile(
                user_id: Annotated[int, Path(ge=1)], service: UserServiceDep
            ) -> PublicProfile:
                user = await service.get_user(user_id)
                return PublicProfile(id=user.id, full_name=user.full_name)

            return app
        """,
        # a hand-built dict with no declared model: one field too many, nothing documented
        """
        PublicProfile = None

        def build_app(settings):
            app = create_app(settings)

            @app.get("/api/profiles/{user_id}")
            async def read_profile(
                user_id: Annotated[int, Path(ge=1, le=MAX_USER_ID)], service: UserServiceDep
            ) -> dict:
                user = await service.get_user(user_id)
                return {"id": user.id, "full_name": user.full_name, "email": user.email}

            return app
        """,
        # a fresh FastAPI(): no lifespan, no database, no sign-up, no envelope
        """
        class PublicProfile(BaseModel):
            id: int
            full_name: str

        def build_app(settings):
            app = FastAPI()

            @app.get("/api/profiles/{user_id}")
            async def read_profile(
                user_id: Annotated[int, Path(ge=1, le=MAX_USER_ID)], service: UserServiceDep
            ) -> PublicProfile:
                user = await service.get_user(user_id)
                return PublicProfile(id=user.id, full_name=user.full_name)

            return app
        """,
    ],
}
