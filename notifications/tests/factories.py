"""Many followers at once, cheaply: one bulk insert of users and one of follows."""

from accounts.models import Follow, User


def followers_of(author: User, count: int, *, prefix: str = "reader", **fields) -> list[User]:
    users = User.objects.bulk_create(
        [
            User(
                **{"username": f"{prefix}{n}", "email": f"{prefix}{n}@example.com", "password": "!", **fields}
            )
            for n in range(count)
        ]
    )
    Follow.objects.bulk_create([Follow(follower=user, followed=author) for user in users])
    return users
