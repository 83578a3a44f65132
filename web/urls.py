from django.urls import path

from web import account_views, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("posts/<str:slug>/", views.post_detail, name="post-detail"),
    path("authors/<str:username>/", views.author, name="author"),
    path("tags/<str:slug>/", views.tag, name="tag"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("write/", views.write, name="write"),
    path("write/<str:slug>/", views.write, name="write-edit"),
    path("me/", views.me, name="me"),
    path("settings/", account_views.settings_page, name="settings"),
    path("settings/delete/", account_views.delete_account, name="delete-account"),
    path("password-reset/", account_views.password_reset, name="password-reset"),
    path("reset/<str:uid>/<str:token>/", account_views.password_reset_confirm, name="password-reset-confirm"),
    path("verify-email/<str:key>/", account_views.verify_email, name="verify-email"),
    path("unsubscribe/<str:token>/", account_views.unsubscribe, name="unsubscribe"),
    # Not under /write/<slug>/: older posts have bare slugs, and one titled "Preview" is "preview".
    path("markdown-preview/", views.preview, name="preview"),
]
