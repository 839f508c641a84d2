-- Rule: var campaign_segments is read as a list of cluster ids: one id or a list of ints
-- (or their digits) >= 0, [] or nothing for every segment; anything else is refused (none).
-- campaign_segments() returns such a list.
{%- set spec = var_specs()['campaign_segments'] %}
{%- set examples = [
    ([], []),
    (none, []),
    (3, [3]),
    ('3', [3]),
    ([0, 2], [0, 2]),
    (['1', 4], [1, 4]),
    ([-1], none),
    ([1.5], none),
    ('two', none),
    ([true], none),
] %}
{%- set current = campaign_segments() %}
{%- set current_is_ids = current is sequence and current is not string
    and current | reject('integer') | list == [] and current | select('lt', 0) | list == [] %}
with

cases as (
    {%- for given, expected in examples %}
        select
            '{{ given | tojson }}' as given,
            '{{ expected | tojson }}' as expected,
            '{{ typed_value(spec, given).value | tojson }}' as actual
        union all
    {%- endfor %}
    select
        'campaign_segments()' as given,
        'a list of ints >= 0' as expected,
        '{{ "a list of ints >= 0" if current_is_ids else current | tojson }}' as actual
)

select * from cases
where actual <> expected
