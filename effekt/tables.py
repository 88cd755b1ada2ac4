"""An indicator's values as a table file (CSV), for the API and the staff pages alike."""

import csv
import io

from effekt.selectors import IndicatorResult
from selvbetjening.texts import pick


def indicator_csv(result: IndicatorResult) -> str:
    """An indicator table as CSV: the total and each breakdown cell, each followed by its groups; a
    suppressed row has no figures."""
    measures = [measure.key for measure in result.indicator.measures]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["level", "id", "name", "group", "group_name", "suppressed", "citizens", "count", "share", *measures]
    )
    for cell in [result.total, *result.cells]:
        for row in [cell, *cell.groups]:
            values = row.values or {}
            writer.writerow(
                [
                    cell.node.level,
                    cell.node.id or "",
                    cell.node.name,
                    row.group or "",
                    pick(*row.group_name) if row.group_name else "",
                    "1" if row.suppressed else "0",
                    *("" if value is None else value for value in (row.citizens, row.count, row.share)),
                    *("" if values.get(key) is None else values[key] for key in measures),
                ]
            )
    return out.getvalue()
