"""The privacy center's ways in: single-use signed links the host service asks for, and the
sessions they open (:mod:`~mamori.center.access`). The pages themselves are in
:mod:`mamori.web.center.home`."""
