"""The "Your own organisation" section of docs/scenarios.md (rendered by ``sim.scenario.docs``).

Kept next to the generator, in words, because the rules it states are ``sim.org_chart``'s
(the loader) and ``tests/test_org_chart.py`` holds one test per rule.
"""

CHART_SECTION = """## Your own organisation: org chart files

`[org] generator = "chart"` builds the organization from your HR export instead of a
generator: a people file (`chart`, required) and a ties file (`ties`, optional), both
CSV. Relative paths are resolved against the scenario file's folder.

```toml
[org]
generator = "chart"
chart = "people.csv"
ties = "ties.csv"          # optional

[org.tie_weights]          # optional; kinds not listed weigh as `informal`
manager = 1.5
advice = 1.25              # any kind your ties file uses
```

`scenarios/acme/` is a complete example: a 3,000-person company made up by
`scenarios/acme/generate.py`, its two files and a scenario with three rollout plans.

### Both files

* UTF-8 text, with or without a byte-order mark (Excel: *Save As > CSV UTF-8*).
* Columns separated by commas, semicolons or tabs: whichever the header line holds most
  of. A value holding the separator is written in double quotes.
* The first line is the header. Column names match case-insensitively after stripping
  spaces; columns not listed here are ignored, so an HR export can be used as it is.
  Every cell is stripped of surrounding spaces; blank lines are skipped.

### people.csv: one row per employee

| column | required | meaning |
|---|---|---|
| `employee_id` | yes | the id as HR gives it (any text); employee *i* of the model is row *i* |
| `department` | yes | department name; departments are numbered in sorted order of their names |
| `manager_id` | no | the manager's `employee_id`; empty = top of the hierarchy |
| `team` | no | a named team |
| `title` | no | job title (seeding and mandate filters, the view) |
| `location` | no | office or country (the view) |
| `dotted_manager_id` | no | a second, dotted-line manager |

* **Level** is the depth in the management chain: the top (empty `manager_id`) is 0.
  An org may have several tops. Without a `manager_id` column the org is flat (a
  partnership): everyone is level 0 and teams come from `team`.
* **Teams.** An employee with a `team` name belongs to that team. The team's leader, who
  holds the budget of its free-plan workspace (`freemium.workspace = "team"`), is its most
  senior member: lowest level, then first in the file. An employee without a team name
  belongs to the team its manager leads (the manager's named team if the manager leads
  one, else the unnamed team "team of <manager id>"); the top leads its own. Without a
  `team` column every team is a manager and its direct reports, as in the `hierarchy`
  generator.

### ties.csv: one row per communication tie

| column | required | meaning |
|---|---|---|
| `source`, `target` | yes | two `employee_id`s |
| `weight` | no | a number > 0 on any scale: messages per quarter, meeting minutes, ... |
| `kind` | no | free text (`advice`, `friendship`, `cowork`, ...); empty = `informal` |

Ties are undirected. A pair listed more than once (in either direction) keeps its
largest weight, and that row's kind.

### The graph

* Reporting lines (kind `manager`), dotted lines (`dotted`), and every pair of
  teammates (`peer`). A pair gets the first of manager, dotted, peer that links it.
* The ties file's ties, with their kind and a **strength** from their weight (below).
  A tie between a pair already linked by a manager, dotted or peer tie keeps that kind
  and takes strength max(1, its strength): heavy communication reinforces a reporting
  line or teammate tie, and light communication never weakens it below a plain one.
* A tie's weight in the model is `org.tie_weights.<kind>` x strength, rounded to 1/64.
  Ties without a weight, and the manager, dotted and peer ties, have strength 1.

**Weight mapping.** strength = 0.25 + 1.5 x percentile, where percentile = (mid-rank of
the tie's weight among all ties' weights - 0.5) / number of ties. Strengths lie between
0.25 and 1.75 and average exactly 1; equal weights share their mid-rank, so all-equal
weights (or no `weight` column) give strength 1. Why ranks: communication data come on
arbitrary scales and are heavy-tailed. Ranks do not change under any increasing
transformation, so message counts and meeting minutes that order the ties alike give
the same strengths (a log scale changes nothing), and a few very heavy ties cannot make
everyone else's ties negligible.

**Tie kinds in `org.tie_weights`.** `manager`, `peer`, `informal` and `dotted` are
always allowed; any other key is a tie kind of your ties file (0..16). A key that no tie
of the built org has is refused (a typo such as `advise` would otherwise weigh nothing):
`org.tie_weights.advise: no tie in the org is of kind 'advise'; kinds in this org: ...`.

### Checks

A file that breaks a rule stops `adoptsim check` and `run` with one message naming the
file, the line (the header is line 1) and the column, and exit code 2:

* the file is missing, a folder, empty, or has only a header line;
* the file is not UTF-8 (Latin-1, UTF-16: the message says how to re-save it), binary,
  or an Excel workbook rather than a CSV;
* a required column is missing (the message lists the columns found and those needed),
  or a column appears twice;
* a row has more or fewer fields than the header;
* people: an empty or duplicate `employee_id` (with the line of the first one), an empty
  `department`, a `manager_id` or `dotted_manager_id` that is no row's `employee_id`, an
  employee who is its own manager or dotted-line manager, a management chain that loops
  (the message prints it: `B -> C -> D -> B`, `->` = reports to);
* ties: an empty or unknown `source` or `target`, a tie from someone to themselves, a
  `weight` that is empty, not a number, not finite, or not > 0.

### Example

people.csv:

```
employee_id,manager_id,department,team,title,location,dotted_manager_id
AC00001,,Operations,,CEO,New York,
AC00002,AC00001,Sales,,VP Sales,New York,
AC00003,AC00001,Engineering,,VP Engineering,Berlin,
AC00010,AC00002,Sales,Sales EMEA 1,Sales Manager,London,
AC00011,AC00010,Sales,Sales EMEA 1,Account Executive,London,
AC00012,AC00010,Sales,Sales EMEA 1,Account Executive,Berlin,AC00020
AC00020,AC00003,Engineering,Engineering Platform 1,Engineering Manager,Berlin,
AC00021,AC00020,Engineering,Engineering Platform 1,Software Engineer,Berlin,
AC00022,AC00020,Engineering,Engineering Platform 1,QA Engineer,Remote,
```

ties.csv:

```
source,target,weight,kind
AC00011,AC00021,240,cowork
AC00012,AC00021,35,advice
AC00011,AC00022,8,friendship
AC00002,AC00003,61,cowork
AC00021,AC00022,410,cowork
AC00010,AC00020,17,advice
AC00001,AC00002,95,
AC00022,AC00011,3,friendship
AC00003,AC00021,12,advice
```
"""
