{#- Every var of the project, in one table: its type, its range and what it does. Nothing
    reads a var except through validated_var(name), which returns the value checked and
    typed; validate_all_vars() (first in on-run-start, which dbt also renders when it parses
    the project, so before any command does anything) checks them all at once. A value is
    never rendered as Jinja (given_var reads --vars raw) nor inlined into SQL as the text it
    was given in: only the typed value that passed its check is. -#}

{#- The var table. Types:
      integer      an int (or its ASCII digits as text) in [min, max]; max defaults to
                   2147483647, the largest T-SQL int (the procedures take int parameters)
      decimal      a number (YAML int or float, or decimal text) of at most 9 digits before
                   the point and 15 after, in the range given by min/max (open ends marked)
      boolean      true or false (YAML booleans, or that text in any case)
      identifier   a SQL identifier [A-Za-z_][A-Za-z0-9_]{0,127}, never quoted or escaped
      campaign     1 to campaign_name_max_length() letters, digits, spaces, '_', '-', no
                   space at either end (refused, not trimmed: ' x' and 'x' would be two
                   campaigns)
      run_id       '' (unset) or a run id of ASCII digits
      segment_ids  a list of cluster ids (integers >= 0), one id, or [] for every segment
      date         '' (the day the run started, UTC) or a calendar day YYYY-MM-DD (a YAML
                   date too), returned as that text
      holdout      0, or a share in [0.0001, 0.9999]: the holdout is md5 bucket
                   < round(share * 10000) of 10000 buckets, so a share outside that range
                   would hold out 0 % or 100 % of every segment
    `default` is only for the vars dbt_project.yml leaves unset. -#}
{%- macro var_specs() -%}
    {{ return({
        'n_clusters': {
            'type': 'integer', 'min': 1,
            'doc': 'k, the number of segments k-means fits (k=1 passes here; the quality gates reject it)',
        },
        'random_state': {
            'type': 'integer', 'min': 0, 'max': 2147483647,
            'doc': "k-means' seed",
        },
        'n_init': {
            'type': 'integer', 'min': 1,
            'doc': 'k-means initialisations; the best one is kept',
        },
        'source_schema': {
            'type': 'identifier',
            'default': 'dbo' if target.type == 'sqlserver' else 'tpcxbb',
            'doc': 'schema of the TPCx-BB source tables (models/staging/tpcxbb/_tpcxbb__sources.yml)',
        },
        'campaign_name': {
            'type': 'campaign',
            'doc': 'the campaign the lists are built for; hashed into the holdout buckets',
        },
        'holdout_share': {
            'type': 'holdout',
            'doc': 'share of each segment held out of the campaign to measure uplift',
        },
        'campaign_segments': {
            'type': 'segment_ids',
            'doc': 'cluster ids the campaign targets; [] for every segment',
        },
        'campaign_role': {
            'type': 'identifier',
            'doc': 'database role granted SELECT on the lists (SQL Server only)',
        },
        'scale_features': {
            'type': 'boolean',
            'doc': 'standardise the features before k-means',
        },
        'model_run_id': {
            'type': 'run_id',
            'doc': "pin a training run of the registry as the current model; '' = latest",
        },
        'retrain': {
            'type': 'boolean',
            'doc': 'train a new run on this build whatever the current run',
        },
        'retrain_after_days': {
            'type': 'decimal', 'min': 0,
            'doc': 'retrain when the current run is this many days old; 0 = every build',
        },
        'max_fit_drift': {
            'type': 'decimal', 'min': 0,
            'doc': "retrain when today's customers fit this much worse (0.1 = +10 %)",
        },
        'silhouette_sample_size': {
            'type': 'integer', 'min': 2,
            'doc': 'customers in the silhouette sample (a silhouette needs two)',
        },
        'outlier_quantile': {
            'type': 'decimal', 'min': 0, 'min_open': true, 'max': 1,
            'doc': "quantile of members' distances beyond which a customer is an outlier",
        },
        'source_test_rows_per_partition': {
            'type': 'integer', 'min': 1,
            'doc': 'rows per ticket range of the line-key tests on the sources',
        },
        'k_selection_min': {
            'type': 'integer', 'min': 1,
            'doc': 'smallest k of segment_k_selection',
        },
        'k_selection_max': {
            'type': 'integer', 'min': 1, 'min_var': 'k_selection_min',
            'doc': 'largest k of segment_k_selection (>= k_selection_min)',
        },
        'min_segment_share': {
            'type': 'decimal', 'min': 0, 'max': 1, 'max_open': true,
            'doc': 'quality gate: smallest share of customers a segment of the current model may hold',
        },
        'min_silhouette': {
            'type': 'decimal', 'min': -1, 'max': 1,
            'doc': "quality gate: lowest mean silhouette of the current model",
        },
        'max_davies_bouldin': {
            'type': 'decimal', 'min': 0, 'min_open': true,
            'doc': 'quality gate: highest Davies-Bouldin index of the current model',
        },
        'cluster': {
            'type': 'integer', 'min': 0, 'default': 0,
            'doc': 'the cluster analyses/tutorial_cluster_emails.sql lists',
        },
        'list_day': {
            'type': 'date', 'default': '',
            'doc': "the day analyses/campaign_list_on_day.sql asks about; '' = the run's day (UTC)",
        },
    }) }}
{%- endmacro -%}

{#- The value of var `name`, checked and typed (int, float, bool, str or list of int). A bad
    value stops compilation: "var <name>=<value as given> is not allowed: <rule>", with every
    other bad var listed too (dbt parses models before the on-run-start hook, so the first
    node that reads a bad var is where a bad invocation stops). -#}
{%- macro validated_var(name) -%}
    {%- set checked = checked_var(name) -%}
    {%- if checked.problem is not none -%}
        {%- do validate_all_vars() -%}
        {{ exceptions.raise_compiler_error(checked.problem) }}
    {%- endif -%}
    {{ return(checked.value) }}
{%- endmacro -%}

{#- on-run-start (and at parse time, where dbt renders the hook too): every var checked, and
    every var given with --vars that the project does not know (a typo such as n_cluster
    would otherwise be ignored silently). One error lists every problem. -#}
{%- macro validate_all_vars() -%}
    {%- set specs = var_specs() -%}
    {%- set problems = [] -%}
    {%- for name in specs -%}
        {%- set checked = checked_var(name) -%}
        {%- if checked.problem is not none -%}
            {%- do problems.append(checked.problem) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set given = invocation_args_dict.get('vars') -%}
    {%- if given is mapping -%}
        {%- for name in given if name not in specs -%}
            {%- do problems.append(
                'var ' ~ name ~ ' is not a var of this project (known: '
                ~ specs.keys() | sort | join(', ') ~ ')'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            problems | length ~ ' bad var(s); nothing was run:\n' ~ problems | join('\n')
        ) }}
    {%- endif -%}
{%- endmacro -%}

{#- {'value': the typed value, 'problem': none or the message}: the one place values are
    checked. Unknown names are a programming error, raised at once. -#}
{%- macro checked_var(name) -%}
    {%- set specs = var_specs() -%}
    {%- if name not in specs -%}
        {{ exceptions.raise_compiler_error(
            'validated_var: ' ~ name ~ ' is not a var of this project; add it to var_specs() in '
            ~ 'macros/vars/validated_var.sql (known: ' ~ specs.keys() | sort | join(', ') ~ ')'
        ) }}
    {%- endif -%}
    {%- set spec = specs[name] -%}
    {%- set value = given_var(name, spec) -%}
    {%- set result = typed_value(spec, value) -%}
    {%- if result.rule is none and spec.get('min_var') -%}
        {%- set bound = checked_var(spec.min_var) -%}
        {%- if bound.problem is none and result.value < bound.value -%}
            {%- do result.update({'rule': 'use an integer >= ' ~ spec.min_var ~ ' (' ~ bound.value ~ ')'}) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if result.rule is none -%}
        {{ return({'value': result.value, 'problem': none}) }}
    {%- endif -%}
    {{ return({
        'value': none,
        'problem': 'var ' ~ name ~ '=' ~ given_text(value) ~ ' is not allowed: ' ~ result.rule,
    }) }}
{%- endmacro -%}

{#- A var's value exactly as given, never rendered. dbt's var() renders a string value as
    Jinja in the caller's context (a value `{% do run_query(...) %}0.02` runs its query), so
    a --vars value is read raw from the invocation's arguments; only the project's own
    defaults in dbt_project.yml, which are reviewed code, go through var(). -#}
{%- macro given_var(name, spec) -%}
    {%- set given = invocation_args_dict.get('vars') -%}
    {%- if given is mapping and name in given -%}
        {{ return(given[name]) }}
    {%- elif 'default' in spec and not var.has_var(name) -%}
        {{ return(spec.default) }}
    {%- endif -%}
    {{ return(var(name)) }}
{%- endmacro -%}

{#- {'value': typed value, 'rule': none, or what a good value looks like} for one spec. -#}
{%- macro typed_value(spec, value) -%}
    {%- set re = modules.re -%}
    {%- set kind = spec.type -%}
    {%- if kind == 'integer' -%}
        {%- set low = spec.min -%}
        {%- set high = spec.get('max', 2147483647) -%}
        {%- set number = integer_or_none(value) -%}
        {%- if number is none or number < low -%}
            {{ return({'value': none, 'rule': 'use an integer >= ' ~ low ~ (
                ' and <= ' ~ high if 'max' in spec else '') }) }}
        {%- elif number > high -%}
            {{ return({'value': none, 'rule': 'use an integer from ' ~ low ~ ' to ' ~ high
                ~ ('' if 'max' in spec else " (the largest T-SQL int)")}) }}
        {%- endif -%}
        {{ return({'value': number, 'rule': none}) }}

    {%- elif kind in ['decimal', 'holdout'] -%}
        {%- set number = decimal_or_none(value) -%}
        {%- if kind == 'holdout' -%}
            {%- set rule = 'use 0 (no holdout) or a decimal number from 0.0001 to 0.9999' -%}
            {%- if number is none or number < 0 or number >= 1 -%}
                {{ return({'value': none, 'rule': rule}) }}
            {%- endif -%}
            {%- set buckets = (number * 10000) | round | int -%}
            {%- if number > 0 and (number < 0.0001 or buckets < 1) -%}
                {{ return({'value': none, 'rule': rule ~ ': ' ~ plain_decimal(number)
                    ~ ' rounds to 0 of the holdout\'s 10000 buckets (0 % held out)'}) }}
            {%- endif -%}
            {%- if number > 0.9999 or buckets >= 10000 -%}
                {{ return({'value': none, 'rule': rule ~ ': ' ~ plain_decimal(number)
                    ~ ' rounds to all 10000 buckets of the holdout (100 % held out)'}) }}
            {%- endif -%}
            {{ return({'value': number, 'rule': none}) }}
        {%- endif -%}
        {%- set lower, upper = spec.get('min'), spec.get('max') -%}
        {%- set lower_open, upper_open = spec.get('min_open', false), spec.get('max_open', false) -%}
        {%- set low = '' if lower is none else ('> ' if lower_open else '>= ') ~ lower -%}
        {%- set high = '' if upper is none else ('< ' if upper_open else '<= ') ~ upper -%}
        {%- set rule = 'use a decimal number ' ~ ([low, high] | select | join(' and ')) -%}
        {%- if number is none
            or (lower is not none and (number < lower or (lower_open and number == lower)))
            or (upper is not none and (number > upper or (upper_open and number == upper))) -%}
            {{ return({'value': none, 'rule': rule}) }}
        {%- endif -%}
        {{ return({'value': number, 'rule': none}) }}

    {%- elif kind == 'boolean' -%}
        {%- if value is boolean -%}
            {{ return({'value': value, 'rule': none}) }}
        {%- elif value is string and value | lower in ['true', 'false'] -%}
            {{ return({'value': value | lower == 'true', 'rule': none}) }}
        {%- endif -%}
        {{ return({'value': none, 'rule': 'use true or false'}) }}

    {%- elif kind == 'identifier' -%}
        {%- if value is string and re.fullmatch('[A-Za-z_][A-Za-z0-9_]{0,127}', value) -%}
            {{ return({'value': value, 'rule': none}) }}
        {%- endif -%}
        {{ return({'value': none, 'rule': 'use a name of 1 to 128 ASCII letters, digits and '
            ~ "'_', not starting with a digit"}) }}

    {%- elif kind == 'campaign' -%}
        {%- set max_length = campaign_name_max_length() -%}
        {%- set rule = 'use 1 to ' ~ max_length ~ " letters, digits, spaces, '_' or '-', "
            ~ 'with no space at either end' -%}
        {%- set text = value if value is string else (value | string if value is integer else none) -%}
        {%- if text is none or not re.fullmatch('[A-Za-z0-9_ -]{1,' ~ max_length ~ '}', text) -%}
            {{ return({'value': none, 'rule': rule}) }}
        {%- endif -%}
        {%- if text != text.strip(' ') -%}
            {{ return({'value': none, 'rule': rule ~ ' (names are not trimmed: ' ~ "'" ~ text
                ~ "' and '" ~ text.strip(' ') ~ "' would be two campaigns)"}) }}
        {%- endif -%}
        {{ return({'value': text, 'rule': none}) }}

    {%- elif kind == 'run_id' -%}
        {%- if value is none or value == '' -%}
            {{ return({'value': '', 'rule': none}) }}
        {%- elif value is integer and value >= 0 -%}
            {{ return({'value': value | string, 'rule': none}) }}
        {%- elif value is string and re.fullmatch('[0-9]{1,18}', value) -%}
            {{ return({'value': value, 'rule': none}) }}
        {%- endif -%}
        {{ return({'value': none, 'rule': "use '' (the latest run) or a run id of the digits 0-9"}) }}

    {%- elif kind == 'segment_ids' -%}
        {%- set rule = 'use a list of cluster ids (integers >= 0), e.g. [0, 2], or [] for every segment' -%}
        {%- if value is none or value == '' -%}
            {{ return({'value': [], 'rule': none}) }}
        {%- endif -%}
        {%- set items = value if (value is sequence and value is not string and value is not mapping) else [value] -%}
        {%- set ids = [] -%}
        {%- for item in items -%}
            {%- set id = integer_or_none(item) -%}
            {%- if id is none or id < 0 or id > 2147483647 -%}
                {{ return({'value': none, 'rule': rule}) }}
            {%- endif -%}
            {%- do ids.append(id) -%}
        {%- endfor -%}
        {{ return({'value': ids, 'rule': none}) }}

    {%- elif kind == 'date' -%}
        {%- if value is none or value == '' -%}
            {{ return({'value': run_started_at.strftime('%Y-%m-%d'), 'rule': none}) }}
        {%- endif -%}
        {#- A YAML date arrives as a date, which prints as YYYY-MM-DD; lists and maps never match. -#}
        {%- set text = value | string if (value is string or value is not iterable) else '' -%}
        {%- set parts = re.fullmatch('([0-9]{4})-([0-9]{2})-([0-9]{2})', text) -%}
        {%- if parts -%}
            {%- set year, month, day = parts.group(1) | int, parts.group(2) | int, parts.group(3) | int -%}
            {%- set leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 -%}
            {%- set month_days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
            {%- if year >= 1 and 1 <= month <= 12 and 1 <= day <= month_days[month - 1] -%}
                {{ return({'value': text, 'rule': none}) }}
            {%- endif -%}
        {%- endif -%}
        {{ return({'value': none, 'rule': "use '' (the run's day) or a calendar day YYYY-MM-DD"}) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error('var_specs(): unknown var type ' ~ kind) }}
{%- endmacro -%}

{#- An int from a YAML int or its ASCII digits as text, else none (booleans, floats, lists,
    Arabic-Indic and other non-ASCII digits, which Python's isdigit() would accept). -#}
{%- macro integer_or_none(value) -%}
    {%- if value is integer -%}
        {{ return(value) }}
    {%- elif value is string and modules.re.fullmatch('-?[0-9]{1,18}', value) -%}
        {{ return(value | int) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro -%}

{#- A float from a YAML int or float or decimal text, else none: at most 9 ASCII digits
    before the point and 15 after (written out in plain decimal, so it is a valid numeric
    literal on every target), never NaN, infinity, a boolean, a list or other text. -#}
{%- macro decimal_or_none(value) -%}
    {%- if value is boolean -%}
        {{ return(none) }}
    {%- elif value is integer or value is float -%}
        {#- NaN is unequal to itself; infinity is beyond the largest float. -#}
        {%- if value != value or value > 1.7976931348623157e308 or value < -1.7976931348623157e308 -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set text = plain_decimal(value) -%}
    {%- elif value is string -%}
        {%- set text = value -%}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('-?([0-9]{1,9}(\\.[0-9]{0,15})?|\\.[0-9]{1,15})', text) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(text | float) }}
{%- endmacro -%}

{#- A number written out in plain decimal, never in exponent form: 0.00004, not 4e-05
    (T-SQL and messages want the former). -#}
{%- macro plain_decimal(number) -%}
    {%- set text = number | string -%}
    {%- set parts = modules.re.fullmatch('(-?)([0-9])(?:\\.([0-9]+))?e([-+][0-9]+)', text) -%}
    {%- if not parts -%}
        {{ return(text) }}
    {%- endif -%}
    {%- set sign = parts.group(1) -%}
    {%- set digits = parts.group(2) ~ (parts.group(3) or '') -%}
    {%- set point = 1 + parts.group(4) | int -%}
    {%- if point <= 0 -%}
        {{ return(sign ~ '0.' ~ '0' * (0 - point) ~ digits) }}
    {%- elif point >= digits | length -%}
        {{ return(sign ~ digits ~ '0' * (point - digits | length)) }}
    {%- endif -%}
    {{ return(sign ~ digits[:point] ~ '.' ~ digits[point:]) }}
{%- endmacro -%}

{#- A var's value for a message, as the user wrote it: YAML spelling for null and booleans,
    plain decimal for floats. -#}
{%- macro given_text(value) -%}
    {%- if value is none -%}
        {{ return('null') }}
    {%- elif value is boolean -%}
        {{ return(value | string | lower) }}
    {%- elif value is float -%}
        {{ return(plain_decimal(value)) }}
    {%- elif value is string or value is integer -%}
        {{ return(value | string) }}
    {%- endif -%}
    {{ return(value | tojson) }}
{%- endmacro -%}
