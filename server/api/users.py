"""REST endpoints: accounts (admins manage everyone; people see and edit themselves)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.auth import current_actor, start_session
from server.extensions import db
from server.models import Role, User
from server.services.accounts import accounts


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    email: str | None
    role: Role
    locale: str | None
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def dump(cls, user: User) -> dict:
        return cls.model_validate(user).model_dump(mode="json")


@bp.get("/users")
@endpoint("List every account", tag="users", response=list[UserOut], auth="admin")
def list_users():
    return [UserOut.dump(user) for user in accounts.list_users(current_actor())]


@bp.post("/users")
@endpoint("Create an account", tag="users", body=accounts.NewUser, response=UserOut, status=201,
          auth="admin", errors=(409,))
def create_user(body: accounts.NewUser):
    user = accounts.create_user(current_actor(), body)
    db.session.commit()
    return UserOut.dump(user), 201


@bp.get("/users/<int:user_id>")
@endpoint("One account", tag="users", response=UserOut, auth="admin, or the user themselves",
          errors=(404,))
def get_user(user_id: int):
    return UserOut.dump(accounts.get_user(current_actor(), user_id))


@bp.patch("/users/<int:user_id>")
@endpoint("Change an account", tag="users", body=accounts.UserChanges, response=UserOut,
          auth="admin; people may change their own name, e-mail, language and password "
               "(with current_password)", errors=(404, 409))
def update_user(user_id: int, body: accounts.UserChanges):
    actor = current_actor()
    user = accounts.update_user(actor, user_id, body)
    db.session.commit()
    if actor.user is not None and actor.user.id == user.id and "password" in body.model_fields_set:
        # The new password ended every other session; this one continues.
        start_session(user)
    return UserOut.dump(user)
