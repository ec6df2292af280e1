"""Assembly API objects (CONTRACT.md §5). Counts are read from annotations, never row by row."""
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from members.models import Member

from . import rules
from .models import Assembly, Resolution
from .services import CHOICES

VOTE_FIELDS = (("for", "votes_for"), ("against", "votes_against"), ("abstain", "votes_abstain"))


class ResolutionSerializer(serializers.ModelSerializer):
    """A resolution. `for`, `against`, `abstain` and `adopted` are null until the vote is over:
    while a vote from phones is open the room sees `ballots_cast` only (the secret ballot)."""

    adopted = serializers.BooleanField(read_only=True, allow_null=True)
    ballots_cast = serializers.IntegerField(read_only=True, default=0, help_text=_("Votes cast so far (how many, never how)."))

    class Meta:
        model = Resolution
        fields = ["id", "position", "text", "majority", "state", "source", "adopted", "ballots_cast", "opened_at", "closed_at"]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        for name, source in VOTE_FIELDS:  # `for` is a Python keyword: declared here
            fields[name] = serializers.IntegerField(source=source, read_only=True, allow_null=True)
        return fields


class AssemblySerializer(serializers.ModelSerializer):
    voters = serializers.SerializerMethodField()
    present = serializers.SerializerMethodField()
    represented = serializers.SerializerMethodField()
    quorum_required = serializers.SerializerMethodField(help_text=_('A fraction as a string, e.g. "0.20".'))
    quorum_reached = serializers.SerializerMethodField()
    voters_frozen = serializers.BooleanField(source="frozen", read_only=True)
    resolutions = serializers.SerializerMethodField()
    open_resolution = serializers.SerializerMethodField()

    class Meta:
        model = Assembly
        fields = [
            "id", "title", "kind", "convocation", "starts_at", "place", "agenda", "cutoff", "convened_at",
            "voters_frozen", "opened_at", "closed_at", "voters", "present", "represented", "quorum_required",
            "quorum_reached", "resolutions", "open_resolution",
        ]
        read_only_fields = fields

    def _quorum(self, obj):
        return self.context["quorums"][obj.pk]

    def get_voters(self, obj) -> int:
        return self._quorum(obj).voters

    def get_present(self, obj) -> int:
        return self._quorum(obj).present

    def get_represented(self, obj) -> int:
        return self._quorum(obj).represented

    def get_quorum_required(self, obj) -> str:
        return rules.format_fraction(self._quorum(obj).required)

    def get_quorum_reached(self, obj) -> bool:
        return self._quorum(obj).reached

    @extend_schema_field(ResolutionSerializer(many=True))
    def get_resolutions(self, obj):
        return ResolutionSerializer(self.context.get("resolutions", {}).get(obj.pk, []), many=True).data

    def get_open_resolution(self, obj) -> int | None:
        for resolution in self.context.get("resolutions", {}).get(obj.pk, []):
            if resolution.state == Resolution.State.OPEN:
                return resolution.pk
        return None


class AssemblyCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Assembly.Kind.choices)
    convocation = serializers.ChoiceField(choices=[(1, "1"), (2, "2")])
    starts_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=255)
    agenda = serializers.CharField(max_length=20_000)
    cutoff = serializers.DateField(required=False, allow_null=True)


class VoterSerializer(serializers.ModelSerializer):
    """A voter of the list (annotations of `selectors.voter_rows`)."""

    member = serializers.IntegerField(source="pk", read_only=True)
    present = serializers.SerializerMethodField()
    present_at = serializers.DateTimeField(read_only=True, allow_null=True)
    proxies_carried = serializers.IntegerField(read_only=True)
    proxy_given_to = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Member
        fields = ["member", "member_number", "first_name", "last_name", "present", "present_at", "proxies_carried", "proxy_given_to"]
        read_only_fields = fields

    def get_present(self, obj) -> bool:
        return obj.present_at is not None


class ProxyCreateSerializer(serializers.Serializer):
    giver = serializers.PrimaryKeyRelatedField(queryset=Member.objects.all(), required=False, allow_null=True,
                                               help_text=_("The giving member's id (default: me)."))
    holder = serializers.PrimaryKeyRelatedField(queryset=Member.objects.all())


class ProxySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    assembly = serializers.IntegerField(source="assembly_id")
    giver = serializers.IntegerField(source="giver_id")
    holder = serializers.IntegerField(source="holder_id")
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class SignInSerializer(serializers.Serializer):
    code = serializers.CharField(required=False, allow_blank=True, max_length=32,
                                 help_text=_("A card barcode (12 or 13 digits) or a member number."))
    member = serializers.PrimaryKeyRelatedField(queryset=Member.objects.all(), required=False, allow_null=True)

    def validate(self, attrs):
        if not attrs.get("code") and not attrs.get("member"):
            raise serializers.ValidationError(_("Give a code (card or member number) or a member."))
        return attrs


class ResolutionCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10_000)
    majority = serializers.ChoiceField(choices=Resolution.Majority.choices, required=False, allow_null=True)


class TallySerializer(serializers.Serializer):
    def get_fields(self):
        return {name: serializers.IntegerField(min_value=0, max_value=1_000_000) for name, _source in VOTE_FIELDS}


class BallotSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=[(c, c) for c in CHOICES])
    for_member = serializers.IntegerField(min_value=1, help_text=_("Your own member id, or that of a member whose proxy you carry."))


class VotedSerializer(serializers.Serializer):
    resolution = serializers.IntegerField()
    voted_for = serializers.ListField(child=serializers.IntegerField())


class DeskVoterSerializer(VoterSerializer):
    """A voter as the sign-in desk shows them: the voter object plus `name`, `display_number` and
    the holder of the proxy they gave, in words. No contact data."""

    display_number = serializers.CharField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)
    proxy_given_to_name = serializers.SerializerMethodField()

    class Meta(VoterSerializer.Meta):
        fields = [*VoterSerializer.Meta.fields, "display_number", "name", "proxy_given_to_name"]
        read_only_fields = fields

    def get_proxy_given_to_name(self, obj) -> str | None:
        if not obj.proxy_given_to:
            return None
        return f"{obj.proxy_holder_first_name} {obj.proxy_holder_last_name} ({obj.proxy_holder_number:06d})"


class QuorumSerializer(serializers.Serializer):
    voters = serializers.IntegerField()
    present = serializers.IntegerField()
    represented = serializers.IntegerField()
    required = serializers.SerializerMethodField()
    reached = serializers.BooleanField()

    def get_required(self, obj) -> str:
        return rules.format_fraction(obj.required)


class SignInResultSerializer(DeskVoterSerializer):
    """The voter signed in (the voter object of the list), with what the desk says about them."""

    signed_in_now = serializers.BooleanField()
    proxies = serializers.ListField(child=serializers.CharField(), help_text=_("The voters whose proxy they carry."))
    proxy_taken_back = serializers.CharField(allow_null=True, help_text=_("The holder of the proxy they had given, now void."))
    quorum = QuorumSerializer()

    class Meta(DeskVoterSerializer.Meta):
        fields = [*DeskVoterSerializer.Meta.fields, "signed_in_now", "proxies", "proxy_taken_back", "quorum"]
        read_only_fields = fields
