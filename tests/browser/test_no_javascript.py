"""Without JavaScript: sign up through an invite, join, answer and take a slot, all by plain
HTML forms (the copy buttons stay hidden and the address boxes still work)."""

from __future__ import annotations

from playwright.sync_api import expect

from .steps import answer, group_with_guest, open_occurrence, your_answer


def test_join_and_answer_without_javascript(live_server, person):
    host, guest, _, supper = group_with_guest(
        live_server,
        person,
        guest_options={"java_script_enabled": False},
        kind="Shared meal",
        title="Soup night",
    )
    occurrence = open_occurrence(guest, supper, 0)
    answer(guest, "Maybe")
    expect(guest).to_have_url(occurrence + "#answers")  # a real redirect back, full reload
    expect(your_answer(guest)).to_contain_text("You said maybe")
    expect(guest.locator(".flashes")).to_be_visible()

    answer(guest, "Going")
    expect(your_answer(guest)).to_contain_text("You're going")
    guest.get_by_role("button", name="Take “Dessert”").click()
    expect(guest.locator("#slots li", has_text="Dessert")).to_contain_text("Gus Guest")

    # The guest's feed address is there to select by hand; the copy button needs JavaScript.
    guest.goto(live_server.url("/feeds"))
    assert guest.locator(".feed-url input").first.input_value().startswith(
        live_server.url("/feeds/t/")
    )
    expect(guest.locator("button[data-copy]").first).to_be_hidden()

    host.goto(occurrence)
    expect(host.locator("#answers .who")).to_contain_text("Gus Guest")
