"""The site's surface, classified: every route, action and auth function, and what guards it.

A list of enforcement points (the README's "Security") is not the guarantee; this table is.
Each Flask endpoint, action and auth function of a site running ``governance``
beside every plugin this project supports (ckanext-activity, the DataStore,
the resource views, ckanext-scheming, ckanext-dcat with ``dcat
structured_data croissant``, CKAN's file subsystem) falls in one class:

``metadata``
    Shows what things are (datasets' descriptions, organisations, users, tags,
    counts) and never a field that says where a gated dataset's data is or
    what it holds.
``data``
    Can show data-bearing values (resource URLs and the fields that carry
    them, uploaded files, DataStore rows, view configs, activity snapshots,
    file-subsystem files). The entry names the gate that covers it, which
    tests/test_surface.py checks exists:

    - ``action:<name>``: our chained action of that name redacts its output;
    - ``auth:<name>``: our chained auth function of that name refuses;
    - ``view:<module>.<function>``: a guard of ours (a module of
      ``ckanext.governance``) answers before CKAN's view does;
    - ``files:<method>``: the plugin's ``IFiles`` hook decides for files
      owned by a dataset or resource;
    - ``via:<action>``: the output is built only from that action's output,
      whose own entry names its gate (``via:*``: the action API, where every
      action has its own entry);
    - ``editors:<auth>``: CKAN's auth function lets in only those who may
      edit the dataset, who are always allowed its data (``policy``);
    - ``index``: read straight from the search index, which holds no
      data-bearing value of a dataset closed to anonymous users
      (``redaction.redact_index_document``);
    - ``sysadmin``: CKAN lets in only sysadmins, who are always allowed;
    - ``signed``: only with a token signed by the site's secret, which no
      route hands out.
``governance``
    Ours: the governance actions, auth functions and pages, decided by
    ``access`` and tested by their own tests.
``static``
    Holds no dataset content at all (assets, login and password pages, the
    site's configuration, API help).

A new CKAN release or a new plugin that adds a route, an action or an auth
function makes tests/test_surface.py fail until someone classifies it here;
an entry whose name no longer exists fails it too, so the table stays true.
tests/site_wide/test_sweep.py then requests every route and side-effect-free action
classified ``metadata``, ``data`` or ``governance`` as users who may not have
the data, and looks for the data.
"""
from __future__ import annotations

import dataclasses

METADATA = "metadata"
DATA = "data"
GOVERNANCE = "governance"
STATIC = "static"
KINDS = (METADATA, DATA, GOVERNANCE, STATIC)
GATE_KINDS = ("action", "auth", "view", "files", "via", "editors", "index", "sysadmin", "signed")


@dataclasses.dataclass(frozen=True)
class Entry:
    kind: str
    gate: str | None = None  # data only: where the decision is enforced

    @property
    def gate_kind(self) -> str | None:
        return self.gate.partition(":")[0] if self.gate else None

    @property
    def gate_name(self) -> str | None:
        return self.gate.partition(":")[2] if self.gate else None


META = Entry(METADATA)
GOV = Entry(GOVERNANCE)
NONE = Entry(STATIC)


def data(gate: str) -> Entry:
    return Entry(DATA, gate)


# What the dataset and resource pages build on.
SHOW = data("via:package_show")
SEARCH = data("via:package_search")
EDITORS = data("editors:package_update")
DATASTORE = data("auth:datastore_search")

# Flask endpoints. CKAN registers the dataset and resource blueprints once per
# dataset type (``<type>.read``, ``<type>_resource.download`` ...); every copy
# is classified as the ``dataset`` one (see ``endpoint_entry``).
ENDPOINTS: dict[str, Entry] = {
    # ckanext-activity: streams and snapshots, through the chained actions.
    "activity.admin_activities": META,  # counts of activities, sysadmins only
    "activity.dashboard": data("via:dashboard_activity_list"),
    "activity.dashboard_testing": NONE,  # a fixed snippet for CKAN's own tests
    "activity.group_activity": data("via:group_activity_list"),
    "activity.group_changes": data("via:activity_diff"),
    "activity.group_changes_multiple": data("via:activity_diff"),
    "activity.organization_activity": data("via:organization_activity_list"),
    "activity.organization_changes": data("via:activity_diff"),
    "activity.organization_changes_multiple": data("via:activity_diff"),
    "activity.package_activity": data("via:package_activity_list"),
    "activity.package_changes": data("via:activity_diff"),
    "activity.package_changes_multiple": data("via:activity_diff"),  # range: views.history
    "activity.package_history": data("via:activity_show"),
    "activity.resource_history": data("view:views.history.guard_history_pages"),
    "activity.user_activity": data("via:user_activity_list"),
    # Sysadmin pages.
    "admin.config": NONE,
    "admin.index": NONE,
    "admin.reset_config": NONE,
    "admin.trash": META,  # names of deleted datasets, sysadmins only
    # The action API: every action behind it has its own entry in ACTIONS.
    "api.action": data("via:*"),
    "api.dataset_autocomplete": META,
    "api.format_autocomplete": META,  # resource formats, which stay visible
    "api.get_api": NONE,
    "api.group_autocomplete": META,
    "api.i18n_js_translations": NONE,
    "api.organization_autocomplete": META,
    "api.tag_autocomplete": META,
    "api.user_autocomplete": META,
    # ckanext-dcat: RDF, Croissant and schema.org (the latter inside
    # dataset.read) are serialised from the chained actions' output.
    "croissant.read_dataset_croissant": SHOW,
    "dcat.read_catalog": data("via:dcat_catalog_show"),
    "dcat.read_dataset": data("via:dcat_dataset_show"),
    "dcat.read_dataset_series": data("via:dcat_dataset_show"),
    "dashboard.datasets": SEARCH,
    "dashboard.groups": META,
    "dashboard.organizations": META,
    # Dataset pages (every one that loads the dataset shows its resources).
    "dataset.collaborator_delete": SHOW,
    "dataset.collaborators_read": SHOW,
    "dataset.delete": SHOW,
    "dataset.edit": EDITORS,
    "dataset.follow": META,
    "dataset.followers": SHOW,
    "dataset.groups": SHOW,
    "dataset.new": META,
    "dataset.new_collaborator": SHOW,
    "dataset.read": SHOW,
    "dataset.resources": EDITORS,
    "dataset.search": SEARCH,
    "dataset.unfollow": META,
    "dataset_resource.delete": data("editors:resource_delete"),
    "dataset_resource.download": data("view:views.data_gate.gate_resource_data"),
    "dataset_resource.edit": data("editors:resource_update"),
    "dataset_resource.edit_view": EDITORS,
    "dataset_resource.new": data("editors:resource_create"),
    "dataset_resource.read": data("via:resource_show"),
    "dataset_resource.view": data("view:views.data_gate.gate_resource_data"),
    "dataset_resource.views": EDITORS,
    # CKAN's generic resource blueprint, beside the per-type one.
    "resource.delete": data("editors:resource_delete"),
    "resource.download": data("view:views.data_gate.gate_resource_data"),
    "resource.edit": data("editors:resource_update"),
    "resource.edit_view": EDITORS,
    "resource.new": data("editors:resource_create"),
    "resource.read": data("via:resource_show"),
    "resource.view": data("view:views.data_gate.gate_resource_data"),
    "resource.views": EDITORS,
    # The DataStore and the table view read rows through datastore_search.
    "datastore.api_info": DATASTORE,
    "datastore.dictionary": data("editors:datastore_create"),
    "datastore.dump": DATASTORE,
    "datatablesview.ajax": data("view:views.data_gate.gate_table_view_data"),
    "datatablesview.filtered_download": data("view:views.data_gate.gate_table_view_data"),
    "feeds.custom": SEARCH,
    "feeds.general": SEARCH,
    "feeds.group": SEARCH,
    "feeds.organization": SEARCH,
    "feeds.tag": SEARCH,
    # CKAN 2.12's file subsystem.
    "file.download": data("files:files_file_allows"),
    "file.public_download": NONE,  # public storages only: site, user and group images
    "file.trusted_download": data("signed"),
    # Ours.
    "governance_agreements.dataset_agreement": GOV,
    "governance_embargo.embargo_subscribe": GOV,
    "governance_ledger.organization_events_csv": GOV,
    "governance_agreements.agreement_edit": GOV,
    "governance_agreements.agreement_new": GOV,
    "governance_agreements.agreement_read": GOV,
    "governance_agreements.my_agreements": GOV,
    "governance_agreements.organization_acceptances_csv": GOV,
    "governance_agreements.organization_agreements": GOV,
    "governance_publication.cancel": GOV,
    "governance_publication.check_page": GOV,
    "governance_requests.grant_revoke": GOV,
    "governance_requests.my_access": GOV,
    "governance_requests.request_decide": GOV,
    "governance_requests.request_edit": GOV,
    "governance_requests.request_new": GOV,
    "governance_requests.request_read": GOV,
    "governance_requests.request_withdraw": GOV,
    "governance_requests.review_queue": GOV,
    # Groups and organisations: their dataset lists come from package_search.
    "group.about": META,
    "group.admins": META,
    "group.bulk_process": SEARCH,
    "group.delete": META,
    "group.edit": META,
    "group.follow": META,
    "group.followers": META,
    "group.index": META,
    "group.manage_members": META,
    "group.member_delete": META,
    "group.member_dump": META,
    "group.member_new": META,
    "group.members": META,
    "group.new": META,
    "group.read": SEARCH,
    "group.unfollow": META,
    "organization.about": META,
    "organization.admins": META,
    "organization.bulk_process": SEARCH,
    "organization.delete": META,
    "organization.edit": META,
    "organization.follow": META,
    "organization.followers": META,
    "organization.index": META,
    "organization.manage_members": META,
    "organization.member_delete": META,
    "organization.member_dump": META,
    "organization.member_new": META,
    "organization.members": META,
    "organization.new": META,
    "organization.read": SEARCH,
    "organization.unfollow": META,
    "home.about": NONE,
    "home.index": SEARCH,
    "home.redirect_locale": NONE,
    "home.robots_txt": NONE,
    "static": NONE,
    "webassets.index": NONE,
    "user.api_tokens": META,
    "user.api_tokens_revoke": META,
    "user.delete": META,
    "user.edit": META,
    "user.follow": META,
    "user.followers": META,
    "user.index": META,
    "user.logged_out_page": NONE,
    "user.login": NONE,
    "user.logout": NONE,
    "user.me": NONE,  # a redirect to the user's page
    "user.perform_reset": NONE,
    "user.read": SEARCH,  # the user's datasets
    "user.read_groups": META,
    "user.read_organizations": META,
    "user.register": NONE,
    "user.request_reset": NONE,
    "user.sysadmin": META,
    "user.unfollow": META,
    "util.custom_form_fields": NONE,  # CKAN's own test pages
    "util.internal_redirect": NONE,
    "util.primer": NONE,
}

# CKAN 2.12's file subsystem: reading a file owned by a dataset or resource
# is decided like that dataset's data; changing one cascades to the owner's
# update and delete auth (``ckan.files.owner.cascade_access``): editors.
FILES = data("files:files_file_allows")
FILES_SCAN = data("files:files_owner_allows")
FILES_EDIT = data("editors:resource_update")

# Actions, by name.
ACTIONS: dict[str, Entry] = {
    # ckanext-activity: snapshots hold whole resources.
    "activity_create": data("sysadmin"),
    "activity_data_show": data("action:activity_data_show"),
    "activity_delete": META,
    "activity_delete_all": META,
    "activity_delete_counts": META,
    "activity_diff": data("action:activity_diff"),
    "activity_show": data("action:activity_show"),
    "dashboard_activity_list": data("action:dashboard_activity_list"),
    "dashboard_mark_activities_old": META,
    "dashboard_new_activities_count": META,
    "group_activity_list": data("action:group_activity_list"),
    "organization_activity_list": data("action:organization_activity_list"),
    "package_activity_list": data("action:package_activity_list"),
    "recently_changed_packages_activity_list": data(
        "action:recently_changed_packages_activity_list"),
    "user_activity_list": data("action:user_activity_list"),
    # Datasets and resources.
    "bulk_update_delete": META,
    "bulk_update_private": META,
    "bulk_update_public": META,
    "current_package_list_with_resources": data("action:current_package_list_with_resources"),
    "dataset_purge": META,
    "package_autocomplete": META,
    "package_collaborator_create": META,
    "package_collaborator_delete": META,
    "package_collaborator_list": META,
    "package_collaborator_list_for_user": META,
    "package_create": data("action:package_create"),
    "package_create_default_resource_views": EDITORS,
    "package_delete": META,
    "package_list": META,
    "package_owner_org_update": META,
    "package_patch": data("action:package_patch"),
    "package_relationship_create": META,
    "package_relationship_delete": META,
    "package_relationship_update": META,
    "package_relationships_list": META,
    "package_resource_reorder": META,
    "package_revise": data("editors:package_revise"),
    "package_search": data("action:package_search"),
    "package_show": data("action:package_show"),
    "package_update": data("action:package_update"),
    "resource_create": data("editors:resource_create"),
    "resource_create_default_resource_views": data(
        "editors:resource_create_default_resource_views"),
    "resource_delete": META,
    "resource_patch": data("editors:resource_patch"),
    "resource_search": data("action:resource_search"),
    "resource_show": data("action:resource_show"),
    "resource_update": data("editors:resource_update"),
    "resource_view_clear": META,
    "resource_view_create": data("editors:resource_view_create"),
    "resource_view_delete": META,
    "resource_view_list": data("action:resource_view_list"),
    "resource_view_reorder": META,
    "resource_view_show": data("action:resource_view_show"),
    "resource_view_update": data("editors:resource_view_update"),
    "format_autocomplete": META,
    # Following: the followee lists hold whole datasets.
    "am_following_dataset": META,
    "am_following_group": META,
    "am_following_user": META,
    "dataset_followee_count": META,
    "dataset_followee_list": data("action:dataset_followee_list"),
    "dataset_follower_count": META,
    "dataset_follower_list": META,
    "follow_dataset": META,
    "follow_group": META,
    "follow_user": META,
    "followee_count": META,
    "followee_list": data("action:followee_list"),
    "group_followee_count": META,
    "group_followee_list": META,
    "group_follower_count": META,
    "group_follower_list": META,
    "organization_followee_count": META,
    "organization_followee_list": META,
    "organization_follower_count": META,
    "organization_follower_list": META,
    "unfollow_dataset": META,
    "unfollow_group": META,
    "unfollow_user": META,
    "user_followee_count": META,
    "user_followee_list": META,
    "user_follower_count": META,
    "user_follower_list": META,
    # The DataStore.
    "datastore_create": data("editors:datastore_create"),
    "datastore_delete": data("editors:datastore_delete"),
    "datastore_function_create": META,
    "datastore_function_delete": META,
    "datastore_info": data("auth:datastore_info"),
    "datastore_records_delete": data("editors:datastore_records_delete"),
    "datastore_run_triggers": META,
    "datastore_search": DATASTORE,
    "datastore_search_sql": data("auth:datastore_search_sql"),
    "datastore_upsert": data("editors:datastore_upsert"),
    # ckanext-dcat.
    "dcat_catalog_search": SEARCH,
    "dcat_catalog_show": SEARCH,
    "dcat_dataset_show": SHOW,
    # CKAN 2.12's file subsystem.
    "file_create": META,  # the caller's own new file
    "file_delete": FILES_EDIT,
    "file_owner_scan": FILES_SCAN,
    "file_ownership_transfer": FILES_EDIT,
    "file_pin": FILES_EDIT,
    "file_register": data("sysadmin"),
    "file_rename": FILES_EDIT,
    "file_show": FILES,
    "file_unpin": FILES_EDIT,
    # Groups and organisations (their dataset lists come from package_search).
    "group_autocomplete": META,
    "group_create": META,
    "group_delete": META,
    "group_list": SEARCH,  # with include_datasets
    "group_list_authz": META,
    "group_member_create": META,
    "group_member_delete": META,
    "group_package_show": SEARCH,
    "group_patch": META,
    "group_purge": META,
    "group_show": SEARCH,
    "group_update": META,
    "member_create": META,
    "member_delete": META,
    "member_list": META,
    "member_roles_list": META,
    "organization_autocomplete": META,
    "organization_create": META,
    "organization_delete": META,
    "organization_list": SEARCH,  # with include_datasets
    "organization_list_for_user": META,
    "organization_member_create": META,
    "organization_member_delete": META,
    "organization_patch": META,
    "organization_purge": META,
    "organization_show": SEARCH,
    "organization_update": META,
    # Users.
    "api_token_create": META,
    "api_token_list": META,
    "api_token_revoke": META,
    "user_autocomplete": META,
    "user_create": META,
    "user_delete": META,
    "user_invite": META,
    "user_list": META,
    "user_patch": META,
    "user_show": SEARCH,  # with include_datasets
    "user_update": META,
    # Tags, vocabularies, translations, task statuses (written by ingest
    # plugins such as XLoader, none of which this project supports yet).
    "tag_autocomplete": META,
    "tag_create": META,
    "tag_delete": META,
    "tag_list": META,
    "tag_search": META,
    "tag_show": data("index"),  # include_datasets reads the index itself
    "task_status_delete": META,
    "task_status_show": META,
    "task_status_update": META,
    "task_status_update_many": META,
    "term_translation_show": META,
    "term_translation_update": META,
    "term_translation_update_many": META,
    "vocabulary_create": META,
    "vocabulary_delete": META,
    "vocabulary_list": META,
    "vocabulary_show": META,
    "vocabulary_update": META,
    # Jobs and mail: sysadmins and the site itself.
    "job_cancel": META,
    "job_clear": META,
    "job_list": data("sysadmin"),
    "job_show": data("sysadmin"),
    "send_email_notifications": META,
    # The site itself.
    "config_option_list": NONE,
    "config_option_show": NONE,
    "config_option_update": NONE,
    "get_site_user": NONE,
    "help_show": NONE,
    "license_list": NONE,
    "scheming_dataset_schema_list": NONE,
    "scheming_dataset_schema_show": NONE,
    "status_show": NONE,
    # Ours.
    "governance_acceptance_list": GOV,
    "governance_access_show": GOV,
    "governance_agreement_accept": GOV,
    "governance_agreement_create": GOV,
    "governance_agreement_list": GOV,
    "governance_agreement_show": GOV,
    "governance_agreement_update": GOV,
    "governance_embargo_subscribe": GOV,
    "governance_event_list": GOV,
    "governance_grant_list": GOV,
    "governance_grant_revoke": GOV,
    "governance_publication_check": GOV,
    "governance_request_create": GOV,
    "governance_request_decide": GOV,
    "governance_request_list": GOV,
    "governance_request_show": GOV,
    "governance_request_update": GOV,
    "governance_request_withdraw": GOV,
}

# Auth functions that are not the auth function of an action of the same
# name (that one guards its action and is classified with it, above).
AUTH_FUNCTIONS: dict[str, Entry] = {
    "activity_list": data("action:package_activity_list"),  # asked by the activity actions
    "datastore_change_permissions": META,
    "file_upload": META,
    "group_change_state": META,
    "group_edit_permissions": META,
    "group_list_available": META,
    "package_change_state": META,
    "permission_delete_file": FILES_EDIT,
    "permission_download_file": FILES,
    "permission_edit_file": FILES_EDIT,
    "permission_manage_files": data("sysadmin"),
    "permission_owns_file": FILES_EDIT,
    "permission_read_file": FILES,
    "request_reset": NONE,
    "sysadmin": META,
    "user_reset": NONE,
}


# ckanext-harvest (``harvest ckan_harvester``), not in the full site above: loaded
# beside governance on a site that harvests others (tests/integrations/test_harvest.py
# checks these against such a site, as tests/test_surface.py does the tables above).
# Its job pages and reports are for those who may update the source, the harvesting
# organisation's editors, who may edit (and so have the data of) what it harvested.
HARVEST_JOBS = data("editors:harvest_source_update")
HARVEST_ENDPOINTS: dict[str, Entry] = {
    "harvester.about": META,
    "harvester.admin": HARVEST_JOBS,
    "harvester.clear": META,
    "harvester.delete": META,
    "harvester.job_abort": META,
    "harvester.job_list": HARVEST_JOBS,
    "harvester.job_show": HARVEST_JOBS,
    "harvester.job_show_last": HARVEST_JOBS,
    "harvester.object_show": data("via:harvest_object_show"),
    "harvester.refresh": META,
}
HARVEST_ACTIONS: dict[str, Entry] = {
    # The origin's dict, resource URLs and all.
    "harvest_object_show": data("auth:harvest_object_show"),
    "harvest_job_list": HARVEST_JOBS,
    "harvest_job_report": HARVEST_JOBS,
    "harvest_job_show": HARVEST_JOBS,
    # A source's config (the harvester's settings, credentials for the origin
    # among them): for those who may update the source (harvest.py).
    "harvest_source_list": data("action:harvest_source_list"),
    "harvest_source_show": data("via:package_show"),
    "harvest_source_show_status": META,  # counts and the last job's statistics
    "harvest_object_list": META,  # ids
    "harvest_log_list": META,  # the harvester's log lines (off unless ckan.harvest.log_scope)
    "harvesters_info_show": NONE,
    # Changes, each guarded by ckanext-harvest's own rule (source editors or sysadmins).
    "harvest_abort_failed_jobs": META,
    "harvest_job_abort": META,
    "harvest_job_create": META,
    "harvest_job_create_all": META,
    "harvest_jobs_run": META,
    "harvest_object_create": META,
    "harvest_objects_import": META,
    "harvest_send_job_to_gather_queue": META,
    "harvest_source_clear": META,
    "harvest_source_create": META,
    "harvest_source_delete": META,
    "harvest_source_index_clear": META,
    "harvest_source_job_history_clear": META,
    "harvest_source_patch": META,
    "harvest_source_reindex": META,
    "harvest_source_update": META,
    "harvest_sources_job_history_clear": META,
    "harvest_sources_reindex": META,
    # Not actions: ckanext-harvest registers every public function of its logic
    # modules, its mail helpers and an exception among them.
    "InactiveSource": NONE,
    "get_mail_extra_vars": NONE,
    "harvest_get_notifications_recipients": NONE,
    "prepare_error_mail": NONE,
    "prepare_summary_mail": NONE,
    "send_error_email": NONE,
    "send_mail": NONE,
    "send_summary_email": NONE,
    # Auth functions only, registered as actions too (its functions share one dict).
    "auth_allow_anonymous_access": NONE,  # a decorator
    "harvest_sources_clear": META,
}


def endpoint_entry(endpoint: str, dataset_types: frozenset[str] = frozenset()) -> Entry | None:
    """The entry of a Flask endpoint; the per-type copies of the dataset and
    resource blueprints read as the ``dataset`` ones."""
    blueprint, _, view = endpoint.rpartition(".")
    if blueprint in dataset_types:
        endpoint = f"dataset.{view}"
    elif blueprint.endswith("_resource") and blueprint[: -len("_resource")] in dataset_types:
        endpoint = f"dataset_resource.{view}"
    return ENDPOINTS.get(endpoint)


def auth_entry(name: str) -> Entry | None:
    """The entry of an auth function: its action's, or its own."""
    return AUTH_FUNCTIONS.get(name) or ACTIONS.get(name)
