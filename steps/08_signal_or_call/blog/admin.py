from django.contrib import admin

from blog.models import Blog, Comment


class CommentInline(admin.TabularInline):
    model = Comment
    extra = 0


@admin.register(Blog)
class BlogAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "created_at"]
    list_select_related = ["author"]
    inlines = [CommentInline]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "blog", "created_at"]
    list_select_related = ["blog"]
    search_fields = ["name", "email", "body"]
