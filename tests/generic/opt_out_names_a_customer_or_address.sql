{#- Opt-out rows that name neither a customer key nor an e-mail address: they would suppress
    nobody, so the opt-out was lost on its way in. -#}
{% test opt_out_names_a_customer_or_address(model) %}

with

anonymous_opt_outs as (
    select *
    from {{ model }}
    where customer_sk is null and email_address is null
)

select * from anonymous_opt_outs

{% endtest %}
