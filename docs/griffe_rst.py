"""Griffe extension: turn the docstrings' reST cross-reference roles into links.

The docstrings follow numpydoc and scikit-learn, whose references are reST
roles (:class:`DeepRegressor`, :meth:`from_pretrained`), which Markdown shows
as they are. After the package is loaded, every role is looked up from the
object whose docstring holds it (its members first, then its parents', then
the package's) and replaced by a mkdocs-autorefs link:

- a reference to the public API (a path through no private module once
  re-exports are followed, such as ``sklearn_dnn.DeepRegressor.fit``) must
  resolve: a page that does not document it fails ``mkdocs build --strict``;
- a reference to a private helper links when the docs render the helper
  and is plain code otherwise;
- a reference that names nothing in the package (a typo) fails the build.
"""

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|mod|obj|exc):`(~?)([\w.]+)`")


def _lookup(root, path):
    """The object at dotted ``path`` under ``root`` (the package), or None."""
    parts = path.split(".")
    if parts[0] != root.name:
        return None
    obj = root
    for part in parts[1:]:
        try:
            members = obj.all_members if hasattr(obj, "all_members") else obj.members
            obj = members[part]
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
    return obj


def _public_names(root):
    """Map the canonical path of each re-exported object to its public path."""
    public = {}
    for name, member in root.members.items():
        if name.startswith("_"):
            continue
        try:
            target = member.final_target if member.is_alias else member
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        public[target.path] = f"{root.name}.{name}"
    return public


def _publicize(path, public):
    """Rewrite the longest re-exported prefix of ``path`` to its public name."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in public:
            return ".".join([public[prefix], *parts[cut:]])
    return path


def _candidates(obj, target):
    """Paths ``target`` may mean, seen from ``obj``: innermost scope first."""
    scope = obj
    while scope is not None:
        yield f"{scope.path}.{target}"
        scope = scope.parent
    yield target


def _link(match, obj, root, public):
    short, target = match.group(1), match.group(2)
    label = f"`{target.rsplit('.', 1)[-1] if short else target}`"
    for candidate in _candidates(obj, target):
        if _lookup(root, candidate) is not None:
            path = _publicize(candidate, public)
            if any(part.startswith("_") for part in path.split(".")):
                code = f"<code>{label.strip('`')}</code>"
                return f'<autoref identifier="{path}" optional>{code}</autoref>'
            return f"[{label}][{path}]"
    # Nothing in the package has this name: a link that cannot resolve, so
    # that the strict build reports it.
    return f"[{label}][{root.name}.{target}]"


def _objects(obj, seen):
    if obj.path in seen:
        return
    seen.add(obj.path)
    yield obj
    for member in obj.members.values():
        if member.is_alias:
            continue
        yield from _objects(member, seen)


class RstRoles(griffe.Extension):
    """Replace reST roles in every docstring of the loaded package."""

    def on_package(self, *, pkg, **kwargs):
        public = _public_names(pkg)
        for obj in _objects(pkg, set()):
            if obj.docstring is None or ":" not in obj.docstring.value:
                continue
            obj.docstring.value = ROLE.sub(
                lambda match, obj=obj: _link(match, obj, pkg, public), obj.docstring.value
            )
