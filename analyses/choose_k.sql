{{ config(enabled=target.type != "sqlserver") }}
-- Choosing k from segment_k_selection: how much each extra segment still buys. The elbow is
-- where the relative inertia drop flattens; read it with silhouette (higher is better) and
-- Davies-Bouldin (lower is better). `dbt compile` renders it; `make plots` draws it.
with

k_selection as (
    select * from {{ ref('segment_k_selection') }}
),

inertia_drops as (
    select
        k,
        inertia,
        silhouette,
        davies_bouldin,
        1 - inertia / lag(inertia) over (order by k) as inertia_drop_vs_previous_k
    from k_selection
)

select * from inertia_drops
