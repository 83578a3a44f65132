from django.urls import path
from rest_framework.routers import SimpleRouter

from posts import views

router = SimpleRouter()
router.register("posts", views.PostViewSet, basename="post")
router.register("comments", views.CommentViewSet, basename="comment")
router.register("tags", views.TagViewSet, basename="tag")
router.register("categories", views.CategoryViewSet, basename="category")

urlpatterns = [
    path("auth/me/posts/", views.MyPostsView.as_view(), name="my-posts"),
    path("feed/", views.FeedView.as_view(), name="feed"),
    *router.urls,
]
