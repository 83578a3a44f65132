"""factory_boy factories for the blog.

``PostFactory`` makes a *public* post by default (published an hour ago); use
``PostFactory(draft=True)`` or ``PostFactory(scheduled=True)`` for the other states, and
``tags=["a", "b"]`` (names or Tag objects) to tag it. ``CommentFactory`` and ``LikeFactory``
move the post's counters as the API would, so counts stay exact in tests. ``bulk_posts``
writes many posts at once, as a bulk load does.
"""

from collections.abc import Iterable
from datetime import timedelta

import factory
from django.db.models import F
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from posts import caching
from posts.models import Category, Comment, Like, Post, Tag


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda c: _slug(c.name))
    description = factory.Faker("sentence")


class TagFactory(DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"tag{n}")
    slug = factory.LazyAttribute(lambda t: _slug(t.name))


def _is_public(status: str, published_at) -> bool:
    return status == Post.Status.PUBLISHED and published_at is not None and published_at <= timezone.now()


def _slug(text: str) -> str:
    from posts.services import slug_base

    return slug_base(text, fallback="x")


class PostFactory(DjangoModelFactory):
    class Meta:
        model = Post
        skip_postgeneration_save = True

    class Params:
        draft = factory.Trait(status=Post.Status.DRAFT, published_at=None)
        scheduled = factory.Trait(
            status=Post.Status.PUBLISHED,
            published_at=factory.LazyFunction(lambda: timezone.now() + timedelta(days=1)),
        )

    title = factory.Faker("sentence", nb_words=5)
    slug = factory.Sequence(lambda n: f"post-{n}")
    author = factory.SubFactory(UserFactory)
    body = factory.Faker("paragraph", nb_sentences=8)
    status = Post.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    # As the site would have it: a public post has been announced (posts.events), a
    # scheduled one waits for the beat.
    announced_at = factory.LazyAttribute(
        lambda p: p.published_at if _is_public(p.status, p.published_at) else None
    )
    category = None

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if not create or not extracted:
            return
        tags = [t if isinstance(t, Tag) else TagFactory(name=t) for t in extracted]
        obj.tags.set(tags)


class CommentFactory(DjangoModelFactory):
    class Meta:
        model = Comment

    post = factory.SubFactory(PostFactory)
    author = factory.SubFactory(UserFactory)
    body = factory.Faker("sentence")
    is_hidden = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        comment = super()._create(model_class, *args, **kwargs)
        if not comment.is_hidden:
            Post.objects.filter(pk=comment.post_id).update(comment_count=F("comment_count") + 1)
        return comment


class LikeFactory(DjangoModelFactory):
    class Meta:
        model = Like

    post = factory.SubFactory(PostFactory)
    user = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        like = super()._create(model_class, *args, **kwargs)
        Post.objects.filter(pk=like.post_id).update(like_count=F("like_count") + 1)
        return like


def bulk_posts(author, rows: Iterable[dict]) -> list[Post]:
    """Posts by ``author`` from ``rows`` (Post fields, ``tags``: Tag objects), written as a
    bulk load writes them: rendered, then one INSERT (PostgreSQL's trigger fills the search
    vector) and one for their tags, then ``caching.bump(posts=True)``, the rule for writes
    that bypass ``posts.services``. Published an hour ago unless the row says otherwise."""
    posts, tags = [], []
    for row in rows:
        fields = {"body": "Text.", "status": Post.Status.PUBLISHED, "published_at": _an_hour_ago(), **row}
        if _is_public(fields["status"], fields["published_at"]):
            fields.setdefault("announced_at", fields["published_at"])
        tags.append(fields.pop("tags", ()))
        post = Post(author=author, **fields)
        post.render()
        posts.append(post)
    posts = Post.objects.bulk_create(posts)
    through = Post.tags.through
    links = zip(posts, tags, strict=True)
    through.objects.bulk_create([through(post_id=p.pk, tag_id=tag.pk) for p, its in links for tag in its])
    caching.bump(posts=True)
    return posts


def _an_hour_ago():
    return timezone.now() - timedelta(hours=1)
