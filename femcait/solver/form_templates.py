"""Forms built once from UFL and made again on other meshes without UFL or the JIT.

An adaptive run changes its mesh tens of times. Building the residual's UFL expression
and finding its compiled kernels again (the UFL signature of the form) took ~0.1 s per
mesh, longer than the steps between two changes; a `FormTemplate` keeps the compiled
kernels of a form and makes it on a new mesh of the same kind from the new mesh's
functions and tags in about a millisecond. Constants (time-step coefficients, material
data) are shared with the form the template came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ufl
import ufl.algorithms
from dolfinx import fem
from dolfinx import mesh as dmesh
from dolfinx.fem.forms import _ufl_to_dolfinx_domain, form_cpp_creator, get_integration_domains


class FormTemplate:
    """The compiled kernels of a UFL form, and what it takes to make the form on a mesh."""

    def __init__(self, comm, form: ufl.Form) -> None:
        """Compile ``form`` (from the JIT cache when it was compiled before)."""
        self.compiled = fem.compile_form(comm, form)
        ufcx = self.compiled.ufcx_form
        original = ufl.algorithms.extract_coefficients(form)
        self.coefficients = [
            original[ufcx.original_coefficient_positions[i]] for i in range(ufcx.num_coefficients)
        ]
        self.constants = ufl.algorithms.analysis.extract_constants(form)
        (domain,) = form.subdomain_data().keys()
        data = form.subdomain_data()[domain]
        offsets = [ufcx.form_integral_offsets[i] for i in range(len(fem.IntegralType) + 1)]
        ids: dict[str, list[int]] = {key: [] for key in data}
        for i in range(len(offsets) - 1):
            name = fem.IntegralType(i).name
            if name in ids:
                ids[name].extend(
                    ufcx.form_integral_ids[j] for j in range(offsets[i], offsets[i + 1])
                )
        self.integrals = [(key, markers[0], ids[key]) for key, markers in data.items()]
        self._create = form_cpp_creator(self.compiled.dtype)

    @property
    def meshtags(self) -> list[dmesh.MeshTags]:
        """The meshtags of the form's measures."""
        return [markers for _, markers, _ in self.integrals if markers is not None]

    def on(
        self,
        mesh: dmesh.Mesh,
        spaces: list[fem.FunctionSpace],
        coefficients: Mapping[ufl.Coefficient, fem.Function],
        tags: Mapping[dmesh.MeshTags, dmesh.MeshTags],
    ) -> fem.Form:
        """The form on ``mesh`` with arguments in ``spaces``: each coefficient of the
        template's UFL form replaced by its value in ``coefficients``, the meshtags of its
        measures by theirs in ``tags`` (as `dolfinx.fem.create_form`, without walking the
        UFL expression again)."""
        subdomains = {}
        for key, markers, ids in self.integrals:
            kind = _ufl_to_dolfinx_domain[key]
            marker = tags[markers] if markers is not None else None
            subdomains[kind] = sorted(
                get_integration_domains(kind, marker, ids), key=lambda d: d[0]
            )
        module = self.compiled.module
        cpp_form = self._create(
            module.ffi.cast("uintptr_t", module.ffi.addressof(self.compiled.ufcx_form)),
            [space._cpp_object for space in spaces],
            {f"w{i}": coefficients[c]._cpp_object for i, c in enumerate(self.coefficients)},
            {f"c{i}": c._cpp_object for i, c in enumerate(self.constants)},
            subdomains,
            [],
            mesh._cpp_object,
        )
        return fem.Form(cpp_form, self.compiled.ufcx_form, self.compiled.code)


class FormSet:
    """Forms by name, on one mesh: compiled from UFL the first time, after a change of mesh
    made from the templates of the previous mesh's `FormSet`."""

    def __init__(
        self,
        mesh: dmesh.Mesh,
        template: FormSet | None = None,
        counterparts: Mapping[ufl.Coefficient, fem.Function] | None = None,
        tags: Mapping[dmesh.MeshTags, dmesh.MeshTags] | None = None,
    ) -> None:
        """``counterparts``: the functions on ``mesh`` of the template mesh's functions,
        ``tags``: its meshtags of the template mesh's meshtags."""
        self.mesh = mesh
        self.templates: dict[str, FormTemplate] = {}
        self._coefficients: dict = {}  # a compiled UFL form's coefficient -> this mesh's
        self._tags: dict = {}  # a compiled UFL form's meshtags -> this mesh's
        if template is not None:
            self.templates = dict(template.templates)
            counterparts, tags = counterparts or {}, tags or {}
            for original, value in template._coefficients.items():
                if value in counterparts:
                    self._coefficients[original] = counterparts[value]
            for original, value in template._tags.items():
                if value in tags:
                    self._tags[original] = tags[value]

    def form(
        self, name: str, spaces: list[fem.FunctionSpace], build: Callable[[], ufl.Form]
    ) -> fem.Form:
        """The form ``name`` with arguments in ``spaces``: from its template if there is
        one, else compiled from ``build()`` (whose coefficients and meshtags are this
        mesh's)."""
        if name not in self.templates:
            template = FormTemplate(self.mesh.comm, build())
            self.templates[name] = template
            for coefficient in template.coefficients:
                self._coefficients.setdefault(coefficient, coefficient)
            for markers in template.meshtags:
                self._tags.setdefault(markers, markers)
        return self.templates[name].on(self.mesh, spaces, self._coefficients, self._tags)

    def discard(self, names) -> None:
        """Forget the templates ``names`` (their forms are compiled again on next use)."""
        for name in names:
            self.templates.pop(name, None)
