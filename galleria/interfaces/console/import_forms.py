"""Console forms of the imports area: upload (file, what it holds, source system, default mall) and the column
mapping (one select per field, proposed from the header names)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from galleria.imports import rules
from galleria.imports.models import ImportJob, ImportKind, Outcome
from galleria.malls.models import Mall


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK, as Excel saves it) or XLSX; the first row holds the column names."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )
    kind = forms.ChoiceField(label=_("The file holds"), choices=ImportKind.choices, initial=ImportKind.MEMBERS)
    source = forms.CharField(
        label=_("Source system"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Previous member system")}),
        help_text=_(
            "A name for the system the file comes from, if you import from several. An opening balance is posted "
            "once per member and source."
        ),
    )
    mall = forms.ChoiceField(label=_("Default join mall"), help_text=_("For rows that name no mall."), required=False)

    def __init__(self, *args: Any, group_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        malls = Mall.objects.filter(group_id=group_id).order_by("pk")
        mall_field = self.fields["mall"]
        assert isinstance(mall_field, forms.ChoiceField)
        mall_field.choices = [(str(m.pk), m.name) for m in malls]


NOT_IMPORTED = ""


class MappingForm(forms.Form):
    """One select per field of the file kind: which column feeds it (or none)."""

    def __init__(self, *args: Any, job: ImportJob, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        columns = [(NOT_IMPORTED, _("— not imported —"))] + [
            (str(i), f"{i + 1}. {h}") for i, h in enumerate(job.headers)
        ]
        for name in rules.fields_of(job.kind):
            current = job.mapping.get(name)
            self.fields[name] = forms.ChoiceField(
                label=str(rules.FIELD_LABELS[name]),
                choices=columns,
                required=name in rules.REQUIRED[job.kind],
                initial="" if current is None else str(current),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        used: dict[str, str] = {}
        for name in rules.fields_of(self.job.kind):
            value = data.get(name)
            if not isinstance(value, str) or value == NOT_IMPORTED:
                continue
            if value in used:
                self.add_error(
                    name, _("This column already feeds “%(field)s”.") % {"field": rules.FIELD_LABELS[used[value]]}
                )
            used[value] = name
        return data

    def mapping(self) -> dict[str, int]:
        chosen = {name: self.cleaned_data.get(name) for name in rules.fields_of(self.job.kind)}
        return {name: int(value) for name, value in chosen.items() if isinstance(value, str) and value != NOT_IMPORTED}


class RowFilterForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), required=False, choices=[("", _("All outcomes")), *Outcome.choices])
