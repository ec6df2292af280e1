"""The role groups hold the model permissions of every app, including apps migrated after members."""
import pytest
from django.contrib.auth.models import Group


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("group", "codename", "held"),
    [
        ("coordinators", "view_member", True),
        ("coordinators", "view_counterevent", True),
        ("coordinators", "change_shifttemplate", True),
        ("coordinators", "view_product", False),
        ("supply", "view_product", True),
        ("supply", "change_supplier", True),
        ("supply", "view_member", False),
        ("cashiers", "view_member", False),
    ],
)
def test_role_groups_hold_their_model_permissions(group, codename, held):
    assert Group.objects.get(name=group).permissions.filter(codename=codename).exists() is held
