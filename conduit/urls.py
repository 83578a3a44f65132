"""RealWorld's URLs, without trailing slashes as the spec has them. Mounted at /api/ after
/api/v1/, so they never shadow our own API."""

from django.urls import path

from conduit import views

app_name = "conduit"

urlpatterns = [
    path("users", views.RegistrationView.as_view(), name="register"),
    path("users/login", views.LoginView.as_view(), name="login"),
    path("user", views.CurrentUserView.as_view(), name="current-user"),
    path("profiles/<str:username>", views.ProfileView.as_view(), name="profile"),
    path("profiles/<str:username>/follow", views.FollowView.as_view(), name="follow"),
    path("articles", views.ArticlesView.as_view(), name="articles"),
    path("articles/feed", views.FeedView.as_view(), name="feed"),
    path("articles/<str:slug>", views.ArticleView.as_view(), name="article"),
    path("articles/<str:slug>/favorite", views.FavoriteView.as_view(), name="favorite"),
    path("articles/<str:slug>/comments", views.CommentsView.as_view(), name="comments"),
    path("articles/<str:slug>/comments/<int:pk>", views.CommentView.as_view(), name="comment"),
    path("tags", views.TagsView.as_view(), name="tags"),
]
