from django.db import migrations, models


class Migration(migrations.Migration):
    """``email_verified`` and the notification choices.

    Accounts that exist when this runs count as verified: they signed up before there was
    anything to verify, and turning DJANGO_REQUIRE_VERIFIED_EMAIL on must not stop them
    publishing. The column is added with True for them, then new accounts start unverified.
    """

    dependencies = [
        ("accounts", "0005_user_avatar"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_verified",
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="user",
            name="email_verified",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="user",
            name="notify_comments",
            field=models.BooleanField(default=True, help_text="Mail me when someone comments on my posts."),
        ),
        migrations.AddField(
            model_name="user",
            name="notify_followed_posts",
            field=models.BooleanField(
                default=True, help_text="Mail me when an author I follow publishes a post."
            ),
        ),
    ]
