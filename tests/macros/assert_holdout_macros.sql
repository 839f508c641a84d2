-- Rule: holdout_bucket is the first 4 bytes of md5('<customer key>|<campaign>') modulo
-- 10000 (expected values from Python's hashlib), and holdout_share() is a float that holds
-- out neither none nor all of the 10000 buckets, unless it is 0.
{%- set examples = [
    (1, 'default', 7713),
    (42, 'default', 2068),
    (123456, 'spring sale', 8204),
    (7, 'Q3-promo_2', 2285),
] %}
{%- set share = holdout_share() %}
{%- set buckets = (share * 10000) | round | int %}
{%- set share_is_sound = share is float and (share == 0 or 1 <= buckets <= 9999) %}
with

cases as (
    {%- for customer_key, campaign, expected in examples %}
        select
            '{{ customer_key }}|{{ campaign }}' as hashed,
            {{ expected }} as expected,
            {{ holdout_bucket(customer_key, campaign) }} as actual
        union all
    {%- endfor %}
    select
        'holdout_share() = {{ share }}' as hashed,
        1 as expected,
        {{ 1 if share_is_sound else 0 }} as actual
)

select * from cases
where actual is null or actual <> expected
