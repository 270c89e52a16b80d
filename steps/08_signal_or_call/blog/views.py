from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from blog.forms import CommentForm
from blog.models import Blog


@require_GET
def blog_list(request):
    blogs = Blog.objects.select_related("author").order_by("-created_at", "-pk")
    return render(request, "blog/blog_list.html", {"blogs": blogs})


@require_http_methods(["GET", "POST"])
def blog_detail(request, blog_id):
    blog = get_object_or_404(Blog.objects.select_related("author"), pk=blog_id)
    form = CommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.blog = blog
        # One transaction for the comment and whatever its post_save receivers write:
        # the author's email, held by on_commit, waits for the COMMIT at the block's end.
        with transaction.atomic():
            form.save()
        messages.success(request, "Thank you, your comment is published.")
        return redirect(blog)
    context = {"blog": blog, "comments": blog.comments.all(), "form": form}
    return render(request, "blog/blog_detail.html", context)
