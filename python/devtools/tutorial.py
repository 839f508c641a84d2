"""The tutorial's own pipeline, kept as the reference the project is measured against.

Microsoft's "Categorize customers using k-means clustering" (SQL Server ML Services, Python):
its feature query, run as written on DuckDB, then pandas and scikit-learn's KMeans. Parity tests
compare the dbt project with it customer by customer; the benchmark times it.
"""

from __future__ import annotations

import duckdb
import pandas as pd
from sklearn.cluster import KMeans

from customer_segmentation.core.features import FEATURE_COLUMNS

# Verbatim from the tutorial (part two, "Prepare data"); it is valid on DuckDB as written.
TUTORIAL_FEATURE_QUERY = """
SELECT
  ss_customer_sk AS customer,
  ROUND(COALESCE(returns_count / NULLIF(1.0*orders_count, 0), 0), 7) AS orderRatio,
  ROUND(COALESCE(returns_items / NULLIF(1.0*orders_items, 0), 0), 7) AS itemsRatio,
  ROUND(COALESCE(returns_money / NULLIF(1.0*orders_money, 0), 0), 7) AS monetaryRatio,
  COALESCE(returns_count, 0) AS frequency
FROM
  (
    SELECT
      ss_customer_sk,
      -- return order ratio
      COUNT(distinct(ss_ticket_number)) AS orders_count,
      -- return ss_item_sk ratio
      COUNT(ss_item_sk) AS orders_items,
      -- return monetary amount ratio
      SUM( ss_net_paid ) AS orders_money
    FROM store_sales s
    GROUP BY ss_customer_sk
  ) orders
  LEFT OUTER JOIN
  (
    SELECT
      sr_customer_sk,
      -- return order ratio
      count(distinct(sr_ticket_number)) as returns_count,
      -- return ss_item_sk ratio
      COUNT(sr_item_sk) as returns_items,
      -- return monetary amount ratio
      SUM( sr_return_amt ) AS returns_money
    FROM store_returns
    GROUP BY sr_customer_sk ) returned ON ss_customer_sk=sr_customer_sk
"""

FEATURES = list(FEATURE_COLUMNS)


def tutorial_features(con: duckdb.DuckDBPyConnection, schema: str = "tpcxbb") -> pd.DataFrame:
    """The tutorial's feature rows, ordered by customer.

    The tutorial's GROUP BY also yields one row for sales with no customer key; it is no
    customer, and this project leaves it out, so the reference does too.
    """
    con.execute(f'set search_path = "{schema}"')
    return con.execute(
        f"select * from ({TUTORIAL_FEATURE_QUERY}) as t "
        "where customer is not null order by customer"
    ).df()


def tutorial_clusters(
    customer_data: pd.DataFrame,
    n_clusters: int = 4,
    random_state: int = 111,
    n_init: int = 10,
) -> pd.DataFrame:
    """The tutorial's clustering step, as written, with the era's default n_init=10."""
    est = KMeans(n_clusters=n_clusters, random_state=random_state, n_init=n_init).fit(
        customer_data[FEATURES]
    )
    clusters = est.labels_
    customer_data = customer_data.copy()
    customer_data["cluster"] = clusters
    return customer_data
