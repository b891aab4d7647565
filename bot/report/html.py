"""The report as one self-contained HTML page in Russian: inline CSS and SVG, no script, no external request.

Every text from the database or the knowledge base passes through esc(); the page reads the same with
scripts turned off (there are none) and prints on A4.
"""

from __future__ import annotations

from bot.report.data import OUTCOMES, EntryFigure, ReportData
from bot.report.gaps import render_gaps
from bot.report.svg import day_label, esc, share_bars, stacked_days

COLOURS = {"answer": "#2e7d32", "clarify": "#f2a900", "escalate": "#c62828"}
NAMES = {"answer": "ответ", "clarify": "выбор вариантов", "escalate": "библиотекарь"}
LANGUAGES = {"ru": "русский", "kk": "казахский"}
LIST_LIMIT = 40

CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;color:#222;margin:0;background:#f6f6f4}
main{max-width:960px;margin:0 auto;padding:16px 20px 40px;background:#fff}
h1{font-size:24px;margin:8px 0}h2{font-size:19px;margin:28px 0 6px;border-bottom:2px solid #ccc;padding-bottom:4px}
h3{font-size:16px;margin:16px 0 4px}
p,li,td,th{font-size:14px;line-height:1.4;overflow-wrap:anywhere}
.meta{color:#555;margin:2px 0}.counts{color:#555;font-size:13px;margin:4px 0 10px}
.chart{display:block;width:100%;height:auto;margin:6px 0}
.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:6px 18px}
.legend li{display:flex;align-items:center;gap:6px}.swatch{width:14px;height:14px;display:inline-block;flex:none}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin:6px 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f0ee}.num{text-align:right;width:90px}table.langs .num{width:17%}
table.gaps th:first-child{width:36px}table.gaps th.num{width:80px}ul.examples{margin:0;padding-left:18px}
.empty{font-size:16px;padding:12px;background:#fff8e1;border:1px solid #f2d27a}
.figures{display:flex;flex-wrap:wrap;gap:10px}.figure{border:1px solid #ddd;padding:8px 12px;min-width:180px;flex:1}
.figure b{display:block;font-size:20px}
"""


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def _legend(totals: dict[str, int]) -> str:
    whole = sum(totals.values())
    items = "".join(f'<li><span class="swatch" style="background:{COLOURS[o]}"></span>{esc(NAMES[o])}: '
                    f'{totals[o]} ({_pct(totals[o], whole)})</li>' for o in OUTCOMES)
    return f'<ul class="legend">{items}</ul>'


def _entries_table(rows: list[EntryFigure], count_name: str, *, share: bool = False) -> str:
    if not rows:
        return '<p class="meta">Нет данных за период.</p>'
    head = f"<th>Статья</th><th class=\"num\">{esc(count_name)}</th>" + ("<th class=\"num\">Из отзывов</th>"
                                                                         "<th class=\"num\">Доля</th>" if share else "")
    body = "".join(
        f"<tr><td>{esc(r.title)} <span class=\"meta\">({esc(r.id)})</span></td><td class=\"num\">{r.count}</td>"
        + (f"<td class=\"num\">{r.of}</td><td class=\"num\">{_pct(r.count, r.of)}</td>" if share else "") + "</tr>"
        for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _questions(data: ReportData) -> str:
    totals = {o: sum(counts[o] for _, counts in data.by_day) for o in OUTCOMES}
    days = [day for day, _ in data.by_day]
    series = [(NAMES[o], COLOURS[o], [counts[o] for _, counts in data.by_day]) for o in OUTCOMES]
    languages = sorted(data.languages.items(), key=lambda item: -sum(item[1].values()))
    lang_rows = "".join(
        f"<tr><td>{esc(LANGUAGES.get(lang, lang))}</td><td class=\"num\">{sum(c.values())}</td>"
        + "".join(f"<td class=\"num\">{_pct(c[o], sum(c.values()))}</td>" for o in OUTCOMES) + "</tr>"
        for lang, c in languages)
    return (
        "<h2>Вопросы по дням</h2>"
        '<p class="counts">Считает: вопросы жителей за каждый день (по местному времени), по исходу: '
        "бот ответил статьёй, предложил выбрать из вариантов, передал библиотекарю.</p>"
        + stacked_days(days, series, label="Вопросы по дням по исходу") + _legend(totals)
        + "<h3>По языкам</h3>"
        '<p class="counts">Считает: вопросы за период по языку вопроса; полоса делится по долям исходов.</p>'
        + share_bars([(LANGUAGES.get(lang, lang), [c[o] for o in OUTCOMES]) for lang, c in languages],
                     [COLOURS[o] for o in OUTCOMES], [NAMES[o] for o in OUTCOMES], label="Исходы по языкам")
        + "<table class=\"langs\"><thead><tr><th>Язык</th><th class=\"num\">Вопросов</th>"
        + "".join(f"<th class=\"num\">{esc(NAMES[o])}</th>" for o in OUTCOMES)
        + f"</tr></thead><tbody>{lang_rows}</tbody></table>"
        "<h2>Статьи</h2><h3>Чаще всего выдавались ответом</h3>"
        '<p class="counts">Считает: вопросы, на которые бот ответил этой статьёй, за период.</p>'
        + _entries_table(data.top_entries, "Ответов")
        + "<h3>Больше всего «не помогло»</h3>"
        '<p class="counts">Считает: отзывы «не помогло» на статью за период и их долю среди всех отзывов на неё.</p>'
        + _entries_table(data.unhelpful, "Не помогло", share=True)
    )


def _gaps(data: ReportData) -> str:
    return ("<h2>Пробелы в базе знаний</h2>"
            '<p class="counts">Считает: похожие вопросы, переданные библиотекарю, сгруппированные по смыслу; '
            "первые 20 групп по числу жителей, с примерами формулировок (личные данные скрыты).</p>"
            + render_gaps(data.gaps))


def _spread(found) -> str:
    if found is None:
        return "<b>—</b>нет данных"
    return f"<b>{found.median:.0f} мин</b>медиана; 90% — за {found.p90:.0f} мин ({found.count} обращений)"


def _librarians(data: ReportData) -> str:
    days = [day for day, _ in data.tickets_by_day]
    chart = stacked_days(days, [("обращений", "#3f6fb5", [n for _, n in data.tickets_by_day])],
                         label="Обращения к библиотекарям по дням", height=200)
    desk = data.desk
    rated = sum(data.ratings.values())
    average = sum(r * n for r, n in data.ratings.items()) / rated if rated else None
    ratings = " · ".join(f"{r}★: {data.ratings.get(r, 0)}" for r in range(5, 0, -1))
    figures = (f'<div class="figures"><div class="figure">Первый ответ (рабочие минуты){_spread(desk and desk.first_response)}</div>'
               f'<div class="figure">До закрытия (рабочие минуты){_spread(desk and desk.resolution)}</div>'
               f'<div class="figure">Оценки жителей<b>{"—" if average is None else f"{average:.1f} из 5"}</b>'
               f"{rated} оценок: {esc(ratings)}</div></div>")
    return ("<h2>Библиотекари</h2>"
            '<p class="counts">Считает: обращения, открытые за день (кроме отозванных жителем); время — в рабочих '
            "минутах библиотекарей с учётом праздников; оценки — поставленные жителями за период.</p>"
            + chart + figures)


def _items(rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="meta">{esc(empty)}</p>'
    shown = "".join(f"<li>{row}</li>" for row in rows[:LIST_LIMIT])
    more = f"<li>… и ещё {len(rows) - LIST_LIMIT}</li>" if len(rows) > LIST_LIMIT else ""
    return f"<ul>{shown}{more}</ul>"


def _health(data: ReportData) -> str:
    stale = [f"{esc(title)} ({esc(entry)}) — проверена {reviewed.isoformat()}" for entry, title, reviewed in data.stale]
    never = [f"{esc(title)} ({esc(entry)})" for entry, title in data.never_asked]
    return (f"<h2>Состояние базы знаний</h2><p class=\"meta\">Статей в базе: {data.entries}.</p>"
            f"<h3>Не проверялись больше года: {len(data.stale)}</h3>"
            '<p class="counts">Считает: статьи, у которых дата reviewed старше 365 дней.</p>'
            + _items(stale, "Таких статей нет.")
            + f"<h3>Замечания проверки (egov-bot kb lint): {len(data.lint)}</h3>"
            '<p class="counts">Считает: предупреждения и ошибки kb lint по файлам базы знаний.</p>'
            + _items([esc(line) for line in data.lint], "Замечаний нет.")
            + f"<h3>Ни разу не выданы ответом за период: {len(data.never_asked)}</h3>"
            '<p class="counts">Считает: статьи, которыми бот не ответил ни на один вопрос за период.</p>'
            + _items(never, "Все статьи выдавались ответом."))


def render(data: ReportData) -> str:
    """The whole page."""
    period = (f"Период: {day_label(data.since)} {data.since.year} — {day_label(data.until)} {data.until.year} "
              f"({data.days} дн.)")
    made = f"Составлен: {data.made_at:%d.%m.%Y %H:%M} ({data.zone})"
    if data.questions:
        body = _questions(data) + _gaps(data) + _librarians(data)
    else:
        body = '<p class="empty">Вопросов пока нет: за этот период жители ещё ничего не спросили.</p>'
        if data.desk is not None or any(n for _, n in data.tickets_by_day):
            body += _librarians(data)
    return ("<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>egov-bot: отчёт для редакторов</title>"
            f"<style>{CSS}</style></head><body><main>"
            f"<h1>egov-bot: отчёт для редакторов и руководства</h1>"
            f'<p class="meta">{esc(period)}</p><p class="meta">{esc(made)}</p>'
            f"{body}{_health(data)}</main></body></html>\n")
