from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("", views.PlaceholderView.as_view(), name="home"),
    path("posts/<str:slug>/", views.PlaceholderView.as_view(), name="post-detail"),
    path("authors/<str:username>/", views.PlaceholderView.as_view(), name="author"),
    path("tags/<str:slug>/", views.PlaceholderView.as_view(), name="tag"),
    path("signup/", views.PlaceholderView.as_view(), name="signup"),
    path("login/", views.PlaceholderView.as_view(), name="login"),
    path("write/", views.PlaceholderView.as_view(), name="write"),
    path("write/<str:slug>/", views.PlaceholderView.as_view(), name="write-edit"),
    path("me/", views.PlaceholderView.as_view(), name="me"),
]
