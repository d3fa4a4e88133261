"""Messages the end-to-end tests send when they test routing, not language understanding.

Each is a verbatim training example of its intent (``tests/unit/test_training_messages.py``
checks that), so every model trained on ``data/nlu`` classifies it confidently and a test
never hinges on one borderline prediction. How well the bot understands text it never saw
is measured by ``make eval`` (held-out macro-F1 per language), not by pytest.
"""

TRAINING_MESSAGES: dict[tuple[str, str], str] = {
    ("en", "greet"): "hello",
    ("en", "ask_hours"): "what are your hours",
    ("en", "request_human"): "I want to talk to a person",
    ("en", "refill_status"): "is my refill ready",
    ("en", "prescription_change"): "i want to change my dose",
    ("en", "ask_test_results"): "are my test results in",
    ("en", "clinical_question"): "my son has a rash what should i do",
    ("en", "ask_insurance"): "do you take my insurance",
    ("en", "billing_question"): "i have a question about my bill",
    ("en", "referral_status"): "status of my referral",
    ("en", "request_callback"): "can someone call me back",
    ("en", "express_distress"): "im really scared about my surgery",
    ("en", "out_of_scope"): "who won the game last night",
    ("en", "decline_verification"): "i'd rather not say",
    ("es", "greet"): "Hola buenos dias",
    ("es", "request_human"): "quiero hablar con una persona",
    ("es", "ask_hours"): "cual es su horario",
    ("es", "ask_test_results"): "quiero saber mis resultados",
    ("es", "decline_verification"): "prefiero no decirlo",
    ("zh", "request_human"): "我要跟真人講話",
    ("vi", "request_human"): "tôi muốn gặp người",
    ("tl", "greet"): "magandang umaga po",
    ("tl", "request_human"): "gusto ko pong makausap ang tao",
    ("tl", "refill_status"): "ready na ba refill ko",
    ("ar", "greet"): "السلام عليكم",
    ("ar", "request_human"): "أريد أن أتحدث مع شخص",
    ("ar", "refill_status"): "هل دوائي جاهز",
    ("ko", "request_human"): "사람이랑 얘기하고 싶어요",
    ("ko", "ask_test_results"): "검사 결과 나왔어요?",
    ("ko", "decline_verification"): "그건 알려드리기 싫어요",
    ("ru", "request_human"): "хочу поговорить с человеком",  # noqa: RUF001 (Cyrillic, as meant)
    ("ru", "prescription_change"): "хочу изменить дозу",
}
"""(language, intent) -> a training example of that intent in ``data/nlu/<language>/``."""


def training_message(language: str, intent: str) -> str:
    return TRAINING_MESSAGES[(language, intent)]
