"""WordPress exports built by the tests, as WordPress writes them (WXR 1.0 to 1.2)."""

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

NAMESPACES = {
    "1.0": "http://wordpress.org/export/1.0/",
    "1.1": "http://wordpress.org/export/1.1/",
    "1.2": "http://wordpress.org/export/1.2/",
}


def text(value: str, cdata: bool) -> str:
    """A field as WordPress writes it: most in CDATA, some plain (escaped)."""
    if cdata:
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return escape(value)


@dataclass
class WComment:
    id: int
    content: str = "Nice post."
    author: str = "Visitor"
    email: str = "visitor@example.net"
    approved: str = "1"
    type: str = ""
    parent: int = 0
    user_id: int = 0
    date: str = "2021-03-05 10:00:00"


@dataclass
class WItem:
    id: int
    title: str = "Hello river"
    slug: str = "hello-river"
    content: str = "<p>Body.</p>"
    excerpt: str = ""
    creator: str = "alice"
    status: str = "publish"
    type: str = "post"
    date_gmt: str = "2021-03-04 09:30:00"
    date: str = "2021-03-04 10:30:00"
    link: str | None = None
    password: str = ""
    categories: list[tuple[str, str]] = field(default_factory=list)  # (nicename, name)
    tags: list[tuple[str, str]] = field(default_factory=list)
    comments: list[WComment] = field(default_factory=list)
    attachment_url: str = ""


@dataclass
class WAuthor:
    login: str
    id: int = 1
    email: str = ""
    display_name: str = ""


def build(
    items: list[WItem],
    *,
    authors: list[WAuthor] | None = None,
    categories: list[tuple[str, str, str]] = (),  # (nicename, name, parent nicename)
    tags: list[tuple[str, str]] = (),
    version: str = "1.2",
    scheme: str = "http",
    cdata: bool = True,
    site: str = "https://river.example.com",
) -> bytes:
    """A WXR document. ``scheme`` spells the ``wp:`` namespace (``https`` as some real
    exports do); ``cdata`` chooses CDATA or plain text for the fields WordPress wraps."""
    wp = NAMESPACES[version].replace("http://", f"{scheme}://")
    excerpt_ns = wp + "excerpt/"
    if authors is None:
        authors = [WAuthor("alice", 1, "alice@river.example.com", "Alice River")]
    out = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<rss version="2.0"',
        f'  xmlns:excerpt="{excerpt_ns}"',
        '  xmlns:content="http://purl.org/rss/1.0/modules/content/"',
        '  xmlns:wfw="http://wellformedweb.org/CommentAPI/"',
        '  xmlns:dc="http://purl.org/dc/elements/1.1/"',
        f'  xmlns:wp="{wp}">',
        "<channel>",
        "<title>River blog</title>",
        f"<link>{site}</link>",
        f"<wp:wxr_version>{version}</wp:wxr_version>",
        f"<wp:base_site_url>{site}</wp:base_site_url>",
        f"<wp:base_blog_url>{site}</wp:base_blog_url>",
    ]
    if version != "1.0":
        for author in authors:
            out.append(
                "<wp:author>"
                f"<wp:author_id>{author.id}</wp:author_id>"
                f"<wp:author_login>{text(author.login, cdata)}</wp:author_login>"
                f"<wp:author_email>{text(author.email, cdata)}</wp:author_email>"
                f"<wp:author_display_name>{text(author.display_name, cdata)}</wp:author_display_name>"
                "</wp:author>"
            )
    for nicename, name, parent in categories:
        out.append(
            f"<wp:category><wp:category_nicename>{text(nicename, cdata)}</wp:category_nicename>"
            f"<wp:category_parent>{text(parent, cdata)}</wp:category_parent>"
            f"<wp:cat_name>{text(name, cdata)}</wp:cat_name></wp:category>"
        )
    for slug, name in tags:
        out.append(
            f"<wp:tag><wp:tag_slug>{text(slug, cdata)}</wp:tag_slug>"
            f"<wp:tag_name>{text(name, cdata)}</wp:tag_name></wp:tag>"
        )
    tag_domain = "tag" if version == "1.0" else "post_tag"
    for item in items:
        link = item.link if item.link is not None else f"{site}/2021/03/04/{item.slug}/"
        parts = [
            "<item>",
            f"<title>{text(item.title, False)}</title>",
            f"<link>{escape(link)}</link>",
            "<pubDate>Thu, 04 Mar 2021 09:30:00 +0000</pubDate>",
            f"<dc:creator>{text(item.creator, cdata)}</dc:creator>",
            f'<guid isPermaLink="false">{site}/?p={item.id}</guid>',
            "<description></description>",
            f"<content:encoded>{text(item.content, cdata)}</content:encoded>",
            f"<excerpt:encoded>{text(item.excerpt, cdata)}</excerpt:encoded>",
            f"<wp:post_id>{item.id}</wp:post_id>",
            f"<wp:post_date>{text(item.date, cdata)}</wp:post_date>",
            f"<wp:post_date_gmt>{text(item.date_gmt, cdata)}</wp:post_date_gmt>",
            f"<wp:comment_status>{text('open', cdata)}</wp:comment_status>",
            f"<wp:post_name>{text(item.slug, cdata)}</wp:post_name>",
            f"<wp:status>{text(item.status, cdata)}</wp:status>",
            "<wp:post_parent>0</wp:post_parent>",
            "<wp:menu_order>0</wp:menu_order>",
            f"<wp:post_type>{text(item.type, cdata)}</wp:post_type>",
            f"<wp:post_password>{text(item.password, cdata)}</wp:post_password>",
            "<wp:is_sticky>0</wp:is_sticky>",
        ]
        if item.attachment_url:
            parts.append(f"<wp:attachment_url>{text(item.attachment_url, cdata)}</wp:attachment_url>")
        for nicename, name in item.categories:
            if version == "1.0":
                parts.append(f"<category>{text(name, cdata)}</category>")
            parts.append(
                f'<category domain="category" nicename="{escape(nicename)}">{text(name, cdata)}</category>'
            )
        for nicename, name in item.tags:
            parts.append(
                f'<category domain="{tag_domain}" nicename="{escape(nicename)}">'
                f"{text(name, cdata)}</category>"
            )
        for comment in item.comments:
            parts.append(
                "<wp:comment>"
                f"<wp:comment_id>{comment.id}</wp:comment_id>"
                f"<wp:comment_author>{text(comment.author, cdata)}</wp:comment_author>"
                f"<wp:comment_author_email>{text(comment.email, cdata)}</wp:comment_author_email>"
                "<wp:comment_author_url>https://visitor.example.net</wp:comment_author_url>"
                "<wp:comment_author_IP>203.0.113.9</wp:comment_author_IP>"
                f"<wp:comment_date>{text(comment.date, cdata)}</wp:comment_date>"
                f"<wp:comment_date_gmt>{text(comment.date, cdata)}</wp:comment_date_gmt>"
                f"<wp:comment_content>{text(comment.content, cdata)}</wp:comment_content>"
                f"<wp:comment_approved>{text(comment.approved, cdata)}</wp:comment_approved>"
                f"<wp:comment_type>{text(comment.type, cdata)}</wp:comment_type>"
                f"<wp:comment_parent>{comment.parent}</wp:comment_parent>"
                f"<wp:comment_user_id>{comment.user_id}</wp:comment_user_id>"
                "</wp:comment>"
            )
        parts.append("</item>")
        out.append("".join(parts))
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out).encode()
