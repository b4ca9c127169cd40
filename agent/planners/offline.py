"""The offline planner: a deterministic phrase grammar, no model, milliseconds per request.

How a request is read:
1. quoted text is set aside (so "OPEN, THEN CLOSED" stays one piece);
2. the request is split into clauses at "then", "after that", ";", sentence ends,
   and at commas or "and" that are followed by a new command verb;
3. each clause loses its politeness ("please", "could you") and its modifiers
   ("from the original", "on a new branch called x", "instead", "three options"),
   then the first matching rule below turns it into a step: history intents first,
   then the specific operations, then a free-form `edit` as the last resort;
4. a single attached mask goes to the first step that needs a region.

When a rule cannot fill a step safely ("remove it" with nothing to refer to, a
garment "from this picture" that was not attached) the plan is a question
instead. `parse` also says whether every clause matched a specific rule, which
the hybrid planner uses to decide when to ask the LLM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from agent.plan import REGION_OPERATIONS, Plan, Step, step_in_words
from agent.planners.base import CURRENT_IMAGE, PlanningContext
from agent.references import NUMBER_WORDS, ORDINALS
from tools.registry import get_operation

# ----- vocabulary ---------------------------------------------------------------------------

VERBS = (r"remove|erase|delete|get|take|cut|clean|eliminate|wipe|replace|swap|switch|exchange|"
         r"change|turn|transform|convert|make|add|put|place|insert|include|relight|light|"
         r"illuminate|zoom|show|rotate|flip|mirror|crop|paint|draw|render|give|apply|undo|redo|"
         r"go|revert|restore|return|reset|branch|check|checkout|compare|try|use|set|blur|"
         r"sharpen|brighten|darken|warm|cool|fix|enhance|write|dress|stylize|stylise|generate|"
         r"create|move|pick|choose|select|keep|start|let's|lets|now|also|increase|decrease|"
         r"reduce|boost|raise|lower|desaturate|saturate|colorize|colourize|bring|can|could|translate|"
         r"correct|age|de-?age|straighten|smooth|retouch|whiten|tidy|"
         r"please|i'd|i want|finally|lastly")
_SPLIT = re.compile(
    r"\s*(?:;+|[.!?]+\s+|(?:,\s*|\s+)(?:and\s+)?(?:then|after that|afterwards|after which|"
    r"finally|lastly)\b,?|,\s*next,?|,\s*(?:and\s+|but\s+)?(?=(?:" + VERBS + r")\b)|"
    r"\s+(?:and|but)\s+(?=(?:" + VERBS + r")\b)(?!put\s+(?:it|them)\s+on\b))\s*", re.I)

FILLERS = re.compile(
    r"^(?:please|pls|kindly|ok(?:ay)?|so|now|hey|hi|alright|also|and|then|first(?:ly)?|next|"
    r"finally|lastly|after that|afterwards|could you|can you|would you|will you|would you mind|"
    r"i(?:'d| would) (?:like|love) (?:you )?to|i want (?:you )?to|i need (?:you )?to|let'?s|"
    r"let us|go ahead and|try to|just|maybe|perhaps|quickly|gently|also)\b[\s,:]*", re.I)
TRAILING = re.compile(r"(?:[\s,]+(?:please|pls|thanks|thank you|for me|if you can|if possible|"
                      r"as well|too|now))+\W*$|[\s.!?,;:]+$", re.I)

NUMBER = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a couple(?: of)?|a few|several)"
ORDINAL = r"(first|second|third|fourth|fifth|sixth|seventh|eighth|last|1st|2nd|3rd|4th|5th|6th)"
# Leading articles go ("the cup" -> "cup"), but "a bit warmer" keeps its "a".
DETERMINERS = re.compile(r"^(?:the|a(?!\s+(?:bit|little|touch|tad|lot)\b)|an|some|this|that|these|"
                         r"those|my|our|your|his|her|its|their)\s+", re.I)
PRONOUNS = {"it", "that", "this", "them", "those", "these", "one", "the thing", "the object",
            "that thing", "this thing", "that one", "this one", "the one"}
MARKED = re.compile(r"\b(?:marked|masked|selected|selection|painted|circled|scribbled|"
                    r"highlighted|red area|red region|what i (?:marked|painted|drew|selected))\b",
                    re.I)
PHOTO = r"(?:this (?:photo|image|picture|pic|shot|one)|the (?:photo|image|picture|pic|scene|" \
        r"shot|whole thing|whole (?:image|photo|picture))|it|this|that|everything)"
PERSON = (r"(?:us|me|him|her|them|everyone|everybody|myself|ourselves|the (?:man|woman|men|women|"
          r"person|people|kids?|child|children|boy|girl|guy|lady|family|couple|subject|model|"
          r"group))")
BACKGROUND = r"(?:background|backdrop|bg|scenery|surroundings|setting)"
# Longest first: "in front of" must win over "in".
PREPOSITION = (r"\s+(?:in front of|on top of|next to|underneath|between|beside|behind|around|"
               r"across|inside|along|above|below|under|onto|into|near|over|atop|to|on|in|at|by)"
               r"\s+")
GARMENT = (r"\b(?:shirt|t-?shirt|tee|jacket|coat|blazer|dress|gown|hoodie|sweater|jumper|"
           r"cardigan|top|blouse|suit|tuxedo|trousers|pants|jeans|shorts|skirt|outfit|clothes|"
           r"clothing|garment|uniform|vest|scarf|hat|cap|shoes|sneakers|boots|sweatshirt|kimono|"
           r"robe|swimsuit|tie|costume)s?\b")
WEARER = (r"(?:him|her|them|me|us|the (?:man|woman|person|model|boy|girl|guy|lady|kid|child|"
          r"people|subject)(?: on the (?:left|right))?)")
LIGHT = (r"\b(?:light|lighting|lights|lit|relight|illuminat\w*|shadows?|sunlight|sun light|"
         r"exposure|glow|golden hour|blue hour|backlit|backlight|rim light|moonlight|"
         r"candlelight|spotlight)\b")
LIGHT_LOOK = (r"(?:night|night-?time|midnight|dusk|dawn|sunrise|sunset|twilight|evening|morning|"
              r"noon|midday|daytime|daylight|golden hour|blue hour|warmer|warm|cooler|cool|colder|"
              r"cold|brighter|bright|darker|dark|dimmer|dim|moodier|moody|sunnier|sunny|overcast|"
              r"cloudy|gloomy|dramatic|cinematic|high[- ]key|low[- ]key|hazy|foggy|misty|"
              r"winter light|summer light)")
STYLE = (r"\b(?:oil|acrylic|watercolou?r|water colou?r|pencil|charcoal|sketch|drawing|ink|"
         r"line art|anime|manga|cartoon|comic|pixel art|pop art|impressionis[mt]|"
         r"expressionis[mt]|cubis[mt]|surreal\w*|van gogh|monet|picasso|ghibli|pixar|disney|"
         r"3d render|claymation|lego|low poly|stained glass|mosaic|ukiyo-?e|woodcut|engraving|"
         r"etching|pastel|gouache|fresco|art nouveau|art deco|cyberpunk|steampunk|vaporwave|"
         r"synthwave|retro|vintage|sepia|black and white|black-and-white|b&w|monochrome|"
         r"gr[ae]yscale|film noir|noir|polaroid|film grain|analog film|35mm|lomo|hdr|posteri[sz]e\w*|"
         r"halftone|painting|painted|illustration|storybook|graffiti|glitch|vector art|"
         r"renaissance|baroque|crayon|colou?r pencil|cel[- ]shad\w*|toon|painterly|styli[sz]ed)\b")
CAMERA_ANGLE = (r"(?:low|high|top|bird'?s?[- ]?eye|worm'?s?[- ]?eye|side|front|back|behind|above|"
                r"below|overhead|aerial|eye[- ]level|dutch|tilted|different|another|the left|"
                r"the right|left|right|rear|ground level)")
TEXT_HOLDER = (r"\b(?:sign|signs|text|label|caption|title|banner|poster|writing|lettering|board|"
               r"headline|billboard|logo|plate|menu|words?|letters|neon sign|shop sign)\b")

CAPABILITIES = (
    "I edit photos step by step, and every edit is a version you can go back to. Try: "
    "'remove the man on the left' (attach a mask or scribble), 'change the cup to a mug', "
    "'make the background a snowy forest', 'relight it warm from the left', 'make it look "
    "like a watercolor', 'zoom out a bit', 'change the sign to say OPEN', 'put the jacket "
    "from the second picture on him', or several at once: 'remove the cup, then make it "
    "night'. Ask for options ('give me three options') and pick one ('use option 2'). "
    "History: 'undo', 'undo the last two edits', 'go back to before the background change', "
    "'from the original, try a forest background on a new branch', 'switch to branch main', "
    "'compare with the original', 'show me the history'. What runs depends on the active "
    "backend (see `retouch models`).")


class _Question(Exception):
    """A clause that cannot be planned safely: ask this instead of guessing.

    `sure` is False when the question only means the grammar did not understand (an
    LLM may); True when nobody could plan it safely (nothing to refer to).
    """

    def __init__(self, message: str, sure: bool = True):
        super().__init__(message)
        self.sure = sure


@dataclass
class Parsed:
    plan: Plan
    confident: bool   # every clause matched a specific rule (no guess, no fallback)


@dataclass
class _Modifiers:
    start_from: str | None = None
    new_branch: bool = False
    branch_name: str | None = None
    variants: int = 1

    def empty(self) -> bool:
        return self == _Modifiers()

    def merge(self, other: "_Modifiers") -> "_Modifiers":
        return _Modifiers(other.start_from or self.start_from, other.new_branch or self.new_branch,
                          other.branch_name or self.branch_name,
                          max(other.variants, self.variants))


@dataclass
class _Clause:
    steps: list[Step] = field(default_factory=list)
    confident: bool = True
    chat: bool = False
    capabilities: bool = False


class OfflinePlanner:
    name = "offline"

    def describe(self) -> str:
        return "offline (deterministic phrase grammar, no language model)"

    def plan(self, context: PlanningContext) -> Plan:
        return self.parse(context).plan

    def parse(self, context: PlanningContext) -> Parsed:
        try:
            return _Reader(context).read()
        except _Question as question:
            return Parsed(Plan(clarify=str(question)), confident=question.sure)
        except ValidationError as exc:  # a phrase that left an argument empty or malformed
            problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
            return Parsed(Plan(clarify=f"I could not make a valid edit of that ({problem}). "
                                       f"Could you say it another way?"), confident=False)


class _Reader:
    def __init__(self, context: PlanningContext):
        self.context = context
        self.quotes: list[str] = []
        self.introduced: str | None = None  # the newest thing an earlier clause put in the picture

    # ----- the request ----------------------------------------------------------------------

    def read(self) -> Parsed:
        text = " ".join(self.context.text.split())
        if not text:
            raise _Question("What would you like me to do with the photo?")
        text = self._protect_quotes(text)
        steps: list[Step] = []
        confident, chat, capabilities, unknown = True, False, False, []
        pending = _Modifiers()
        for raw in _SPLIT.split(text):
            clause, modifiers = self._modifiers(_tidy(raw))
            if not clause:
                pending = pending.merge(modifiers)
                continue
            result = self._clause(clause)
            if result is None:
                unknown.append(clause)
                continue
            chat |= result.chat
            capabilities |= result.capabilities
            confident &= result.confident
            if not result.steps:
                pending = pending.merge(modifiers)
                continue
            modifiers = pending.merge(modifiers)
            pending = _Modifiers()
            steps += self._apply_modifiers(modifiers, result.steps)
            for step in result.steps:
                self.introduced = step.args.get("object") or step.args.get("replacement") or \
                    self.introduced
        if pending.variants > 1 and steps:
            _set_variants(steps, pending.variants)
            pending.variants = 1
        if not pending.empty():
            steps += self._apply_modifiers(pending, [])
        if unknown:
            if not steps and not chat and not capabilities:
                raise _Question(f"I'm not sure what to change in \"{self._restore(unknown[0])}\". "
                                f"Say it as an edit, e.g. 'remove the cup', 'make the "
                                f"background a beach' or 'make it warmer'.", sure=False)
            confident = False
        if capabilities and not steps:
            return Parsed(Plan(reply=CAPABILITIES), confident)
        if not steps:
            reply = "Glad you like it! Tell me the next change whenever you want." if chat else ""
            return Parsed(Plan(reply=reply), confident)
        self._assign_masks(steps)
        return Parsed(Plan(steps=steps, reply=_preview(steps)), confident)

    def _protect_quotes(self, text: str) -> str:
        def keep(match: re.Match) -> str:
            self.quotes.append(match.group(2))
            return f"QUOTE{len(self.quotes) - 1}Q"

        # A quote opens after a space or punctuation, so "don't" and "it's" stay words.
        return re.sub(r"(?<!\w)([\"“”'‘’])([^\"“”‘’]+?)[\"“”'‘’](?!\w)",
                      lambda m: keep(m) if m.group(1) != "'" or " " in m.group(2)
                      or m.group(2).isupper() else m.group(0), text)

    def _restore(self, text: str) -> str:
        return re.sub(r"QUOTE(\d+)Q", lambda m: self.quotes[int(m.group(1))], text)

    def _modifiers(self, clause: str) -> tuple[str, _Modifiers]:
        found = _Modifiers()
        match = re.search(r"\b(?:on|in|into|as|onto|with)\s+(?:a\s+)?(?:new|separate|different|"
                          r"another|fresh)\s+branch(?:\s+(?:called|named)\s+([\w.-]+))?", clause,
                          re.I)
        if match:
            found.new_branch, found.branch_name = True, match.group(1)
            clause = _cut(clause, match)
        match = re.search(r"\b(?:(?:starting|start|going|working|but)\s+)?from\s+(the\s+original"
                          r"(?:\s+(?:photo|image|picture|version|one|shot))?|scratch|the\s+"
                          r"(?:beginning|start)|the\s+first\s+version|(?:version|v|@)\s*\d+|the\s+"
                          r"unedited\s+(?:photo|image|one)|(?:the\s+(?:version|one|image|photo)\s+)?"
                          r"(?:before|after)\s+the\s+[\w\s]+?(?:change|edit))(?=\W|$)", clause, re.I)
        if match:
            found.start_from = match.group(1)
            clause = _cut(clause, match)
        match = re.search(r"(?:\b(?:give me|show me|make|generate|create|produce|try|with|in|"
                          r"i want|i'd like)\s+)?\b" + NUMBER + r"\s+(?:different\s+|more\s+)?"
                          r"(?:options|variants|variations|versions|alternatives|takes|choices|"
                          r"tries)\b(?:\s*(?:for|of|with|:))?", clause, re.I)
        if match:
            found.variants = min(max(_count(match.group(1)), 1), 8)
            clause = _cut(clause, match)
        clause = _tidy(re.sub(r"\s*\binstead\b", "", clause, flags=re.I))
        if re.match(r"^try\s+(?!on\b)(?!.*\bon\s+" + WEARER + r"$)", clause, re.I):
            clause = _tidy(clause[4:])  # "try a forest background": the edit itself
        return clause, found

    def _apply_modifiers(self, modifiers: _Modifiers, steps: list[Step]) -> list[Step]:
        if steps and steps[0].tool == "branch":  # "branch from version 2": one branch, filled in
            if modifiers.start_from and not steps[0].args.get("from_version"):
                steps[0].args["from_version"] = modifiers.start_from
            if modifiers.branch_name and not steps[0].args.get("name"):
                steps[0].args["name"] = modifiers.branch_name
            modifiers = _Modifiers(variants=modifiers.variants)
        before: list[Step] = []
        # Starting from an earlier version opens a branch, so the current line keeps its name.
        if modifiers.new_branch or modifiers.start_from:
            args = {}
            if modifiers.branch_name:
                args["name"] = modifiers.branch_name
            if modifiers.start_from:
                args["from_version"] = modifiers.start_from
            before.append(Step(tool="branch", args=args))
        if modifiers.variants > 1:
            _set_variants(steps, modifiers.variants)
        return before + steps

    def _assign_masks(self, steps: list[Step]) -> None:
        """Attached masks go, in order, to the steps that need a region (a lone step takes one)."""
        count = self.context.masks
        if not count:
            return
        edits = [step for step in steps if step.is_edit]
        wanting = [step for step in edits if step.tool in REGION_OPERATIONS] or edits[:1]
        for index, step in enumerate(wanting[:count]):
            if not step.args.get("mask"):
                step.args["mask"] = "mask" if count == 1 else f"mask {index + 1}"

    # ----- one clause -----------------------------------------------------------------------

    def _clause(self, clause: str) -> _Clause | None:
        if _CHAT.match(clause):
            return _Clause(chat=True)
        if _CAPABILITIES.match(clause):
            return _Clause(capabilities=True)
        for rule in (self._history, self._edit_text, self._try_on, self._control,
                     self._collage, self._remove, self._background, self._camera,
                     self._light_explicit, self._style, self._light_look, self._replace,
                     self._add):
            steps = rule(clause)
            if steps is not None:
                return _Clause(steps=steps)
        bare = re.fullmatch(r"(remove|erase|delete|replace|swap|add|put|change|edit|fix|relight|"
                            r"get rid of)", clause, re.I)
        if bare:
            raise _Question(f"{bare.group(1).capitalize()} what? Say what to change, e.g. "
                            f"'{bare.group(1).lower()} the cup', or attach a mask over it.")
        if re.match(r"^(?:" + VERBS + r")\b", clause, re.I) or re.match(
                r"^(?:more|less|fewer|bigger|smaller|larger)\b", clause, re.I):
            return _Clause(steps=[Step(tool="edit", args={"instruction": self._restore(clause)})],
                           confident=False)
        return None

    # history intents ------------------------------------------------------------------------

    def _history(self, c: str) -> list[Step] | None:
        snapshot = self.context.snapshot
        if re.match(r"^(?:show|display|list|print|see|view|open|give)?\s*(?:me\s+)?(?:the\s+|my\s+|"
                    r"our\s+|all\s+(?:the\s+)?)?(?:edit\s+|version\s+|full\s+)?(?:history|log|"
                    r"versions|timeline|version tree|changes so far|edits so far)\b", c, re.I) or \
                re.match(r"^(?:(?:show|tell) (?:me|us) )?what (?:have |did )?(?:we|you|i)(?:'ve)? "
                         r"(?:done|do|changed|edited)", c, re.I):
            return [Step(tool="show_history")]

        match = re.match(r"^(?:undo|un-do)\b(.*)$", c, re.I)
        if match:
            rest = match.group(1)
            if re.search(r"\b(?:everything|all(?: of it| edits| changes)?)\b", rest, re.I):
                return [Step(tool="revert", args={"version": "the original"})]
            return [Step(tool="undo", args={"steps": _steps_in(rest)})]
        if re.match(r"^(?:take (?:that|it) back|scratch that|revert (?:that|it)|roll (?:that|it) "
                    r"back|(?:i )?(?:don'?t|do not) like (?:that|it)|back)$", c, re.I):
            return [Step(tool="undo")]
        match = re.match(r"^(?:revert|roll back|rollback)\s+(?:the\s+)?last\s*(.*?)\s*"
                         r"(?:edits?|changes?|steps?)?$", c, re.I)
        if match:
            return [Step(tool="undo", args={"steps": _steps_in(match.group(1) + " steps")})]
        match = re.match(r"^(?:go|step|move|jump)\s+back(?:\s+(\w+)\s+(?:steps?|edits?|versions?|"
                         r"times|changes?))?(?:\s+(?:one|a)(?:\s+step)?)?$", c, re.I)
        if match:
            return [Step(tool="undo", args={"steps": _count(match.group(1) or "1")})]
        if re.match(r"^(?:start over|start again|reset(?: everything| it| all)?|back to square one)$",
                    c, re.I):
            return [Step(tool="revert", args={"version": "the original"})]

        name = self._checkout_name(c)
        if name:
            return [Step(tool="checkout", args={"branch": name})]
        match = re.match(r"^(?:(?:go|get|jump|switch|roll|move|take (?:it|me|us))\s+back\s+to|"
                         r"(?:revert|restore|return|reset|roll back|rollback)(?:\s+back)?(?:\s+to)?|"
                         r"bring back|give me back|back to)\s+(.+)$", c, re.I)
        if match:
            return [Step(tool="revert", args={"version": match.group(1)})]
        match = re.match(r"^(?:use|pick|take|choose|select|go with|show|(?:i\s+)?(?:prefer|like|"
                         r"want|liked))\s+(?:the\s+)?(?:version|v|#|@)\s*(\d+)(?:\s+(?:better|more|"
                         r"best|instead))?$", c, re.I)
        if match:
            return [Step(tool="revert", args={"version": match.group(1)})]

        match = re.match(r"^(?:create|make|start|open|add)?\s*(?:a\s+)?(?:new\s+)?branch(?:\s+off)?"
                         r"(?:\s+(?:called|named))?(?:\s+(?!from\b|at\b|off\b|of\b)([\w.-]+))?"
                         r"(?:\s+(?:from|at|off(?: of)?|of|starting (?:from|at))\s+(.+))?$", c, re.I)
        if match:
            args = {}
            if match.group(1):
                args["name"] = match.group(1)
            if match.group(2):
                args["from_version"] = match.group(2)
            return [Step(tool="branch", args=args)]

        match = re.match(r"^compare\s+(?:(?:it|this|the current (?:one|version|image)|the result)\s+)?"
                         r"(?:with|to|against)\s+(.+)$", c, re.I)
        if match:
            return [Step(tool="compare", args={"a": "current", "b": match.group(1)})]
        match = re.match(r"^compare\s+(.+?)(?:\s+(?:with|to|and|against|vs\.?|versus)\s+(.+))?$",
                         c, re.I)
        if match:
            return [Step(tool="compare", args={"a": match.group(1),
                                               "b": match.group(2) or "previous"})]
        match = re.match(r"^(?:show\s+(?:me\s+)?)?(?:the\s+)?(?:before and after|before/after|"
                         r"difference|diff|changes)(?:\s+(?:with|from|to|since)\s+(.+))?$", c, re.I)
        if match:
            return [Step(tool="compare", args={"a": "current", "b": match.group(1) or "previous"})]

        match = re.match(r"^(?:(?:i(?:'ll| will)?\s+)?(?:use|pick|choose|select|take|keep|go with|"
                         r"like|prefer|want)|let'?s (?:go with|use|take)|(?:show me)|)\s*(?:the\s+)?"
                         r"(?:option|variant|variation|choice|number|#)\s*(\w+)(?:\s+(?:is|looks)\s+"
                         r"(?:best|better|good|great))?$", c, re.I)
        if not match:
            match = re.match(r"^(?:(?:i(?:'ll| will)?\s+)?(?:use|pick|choose|select|take|keep|go "
                             r"with|like|prefer|want)|let'?s (?:go with|use|take))?\s*(?:the\s+)?"
                             + ORDINAL + r"\s+(?:one|option|variant|variation|choice)(?:\s+(?:is|"
                             r"looks)\s+(?:best|better|good|great)|\s+better|\s+best)?$", c, re.I)
        if match:
            word = match.group(1).lower()
            option = ORDINALS.get(word) or (int(word) if word.isdigit() else NUMBER_WORDS.get(word))
            if not option:
                raise _Question(f"Which option do you mean by '{word}'? Say 'use option 2'.")
            if option == -1:  # "the last one"
                option = self._last_option()
            return [Step(tool="use_variant", args={"option": option})]

        if re.match(r"^(?:do (?:it|that|this) again|again|once more|one more time|repeat(?: that| it|"
                    r" the last (?:edit|step))?|(?:do )?the same (?:again|thing)|(?:even |a bit |"
                    r"some |a little )?more(?: of (?:that|it|the same))?|stronger|even stronger)$",
                    c, re.I):
            head = snapshot.head
            if head is None or head.tool == "import":
                raise _Question("Do what again? There is no edit to repeat yet.")
            # The same edit, without the previous request's attachments.
            fields = set(get_operation(head.tool).args_model.model_fields) - {
                "mask", "references", "reference"}
            return [Step(tool=head.tool, args={k: v for k, v in head.args.items() if k in fields})]
        return None

    def _checkout_name(self, c: str) -> str | None:
        match = re.match(r"^(?:switch|go|change|move|jump|get)\s+(?:back\s+)?(?:over\s+)?to\s+"
                         r"(?:the\s+)?(?:branch\s+([\w.-]+)|([\w.-]+)\s+branch)$", c, re.I) or \
            re.match(r"^check\s*out\s+(?:the\s+)?(?:branch\s+)?([\w.-]+)(?:\s+branch)?$", c, re.I) or \
            re.match(r"^(?:use|open)\s+(?:the\s+)?(?:branch\s+([\w.-]+)|([\w.-]+)\s+branch)$", c,
                     re.I)
        if match:
            return next(group for group in match.groups() if group)
        match = re.match(r"^(?:switch|go back|go|change|move|jump)\s+to\s+([\w.-]+)$", c, re.I)
        if match and match.group(1) in self.context.snapshot.branches:
            return match.group(1)
        return None

    def _last_option(self) -> int:
        from agent.references import variant_group

        return max(len(variant_group(self.context.snapshot)), 1)

    # operations -----------------------------------------------------------------------------

    def _edit_text(self, c: str) -> list[Step] | None:
        match = re.match(r"^(?:change|make|edit|update|set|fix|correct|have|get|let)\s+(.+?)\s+(?:to\s+)?"
                         r"(?:say|says|read|reads|show|display|spell)\s+(.+)$", c, re.I)
        if match and re.search(TEXT_HOLDER, match.group(1), re.I):
            return [self._text_step(match.group(2), where=match.group(1))]
        match = re.match(r"^(?:the\s+)?(.*?" + TEXT_HOLDER + r".*?)\s+should\s+(?:say|read)\s+(.+)$",
                         c, re.I)
        if match:
            return [self._text_step(match.group(2), where=match.group(1))]
        match = re.match(r"^(?:change|replace|switch|update|edit)\s+(?:the\s+)?(?P<w>.*?)\s*from\s+"
                         r"(?P<o>.+?)\s+to\s+(?P<n>.+)$", c, re.I)
        if match and (re.search(TEXT_HOLDER, match.group("w"), re.I) or _is_literal(match.group("o"))
                      or _is_literal(match.group("n"))):
            return [self._text_step(match.group("n"), old=match.group("o"),
                                    where=match.group("w"))]
        match = re.match(r"^(?:replace|change|swap|switch)\s+(?:the\s+)?(word|words|text|writing|"
                         r"lettering)?\s*(.+?)(?:\s+((?:on|in|at)\s+.+?))?\s+(?:with|to|into|for|by)"
                         r"\s+(?:the\s+(?:word|text)\s+)?(.+)$", c, re.I)
        if match and (match.group(1) or _is_literal(match.group(2)) or _is_literal(match.group(4))):
            return [self._text_step(match.group(4), old=match.group(2), where=match.group(3))]
        match = re.match(r"^(?:write|add|put|print|type|place)\s+(?:the\s+)?(?:text|words?|caption|"
                         r"title|label|slogan)?\s*(QUOTE\d+Q|(?-i:[A-Z0-9][A-Z0-9 !?&.,'-]*[A-Z0-9!?]))"
                         r"(?:\s+((?:on|in|at|onto|to|across|above|below|under|over)\s+.+))?$", c,
                         re.I)
        if match:
            return [self._text_step(match.group(1), where=match.group(2))]
        return None

    def _text_step(self, new: str, old: str | None = None, where: str | None = None) -> Step:
        args = {"new_text": self._restore(_literal(new))}
        if old:
            args["old_text"] = self._restore(_literal(old))
        if where:
            where_text = _np(where)
            if where_text and where_text not in ("text", "word", "words", "writing"):
                args["where"] = where_text
        return Step(tool="edit_text", args=args)

    def _try_on(self, c: str) -> list[Step] | None:
        garment = who = None
        for pattern in (r"^put\s+(?P<g>.+?)\s+on\s+(?P<w>" + WEARER + r")$",
                        r"^dress\s+(?P<w>" + WEARER + r")\s+(?:up\s+)?in\s+(?P<g>.+)$",
                        r"^(?:make|have|let)\s+(?P<w>" + WEARER + r")\s+(?:wear|try on|put on)\s+"
                        r"(?P<g>.+)$",
                        r"^try\s+(?:on\s+)?(?P<g>.+?)\s+on\s+(?P<w>" + WEARER + r")$",
                        r"^try\s+on\s+(?P<g>.+)$",
                        r"^(?:take|use|grab)\s+(?P<g>.+?)\s+and\s+put\s+(?:it|them)\s+on\s+(?P<w>"
                        + WEARER + r")$"):
            match = re.match(pattern, c, re.I)
            if match:
                garment, who = match.group("g"), match.groupdict().get("w") or "person"
                break
        if garment is None:
            return None
        reference = self._reference_in(garment)
        mentions_image = re.search(r"\b(?:this|that|these|those)\b|\b(?:from|in|on)\s+(?:the|this|"
                                   r"my)\s+(?:\w+\s+)?(?:image|picture|photo|pic|reference)",
                                   garment, re.I)
        if reference is None and self.context.references and (
                re.search(GARMENT, garment, re.I) or mentions_image):
            reference = "reference 1"
        if reference is None:
            if mentions_image:
                raise _Question(f"Which {_np(_strip_image_words(garment)) or 'garment'}? Attach a "
                                f"photo of it as a reference image and ask again.")
            return None  # a garment in words only: an ordinary edit adds it
        return [Step(tool="try_on", args={"garment_reference": reference,
                                          "target": _np(who) if who != "person" else "person"})]

    def _control(self, c: str) -> list[Step] | None:
        match = re.match(
            r"^(?:make|create|generate|render|produce|draw|paint|imagine|give me)\s+(?:me\s+)?"
            r"(?:a\s+|an\s+|one\s+)?(?:new\s+)?(?:(?:photo|picture|image|render|shot|portrait|"
            r"drawing|painting)\s+of\s+)?(?P<p>.+?)\s+(?:in|with|using|following|matching|that "
            r"follows|copying|based on)\s+(?:the\s+same|this|that|the|my|these|its|his|her)?\s*"
            r"(?P<k>pose|poses|posture|depth(?: map)?|edges?|edge map|outlines?|line ?art|lines|"
            r"scribble|composition|layout|structure|canny)(?:\s+(?:of|from|in|as(?: in)?)\s+(?P<src>.+))?$",
            c, re.I)
        if not match:
            match = re.match(r"^(?:use|take|keep)\s+(?:this|the|that|my)\s+(?P<k>pose|depth|edges|"
                             r"outlines?|composition|layout)(?:\s+(?:of|from|in)\s+(?P<src>.+?))?"
                             r"\s+(?:to make|for|and make|to create|to generate|and generate)\s+"
                             r"(?:a\s+|an\s+)?(?:(?:photo|picture|image)\s+of\s+)?(?P<p>.+)$",
                             c, re.I)
        if not match:
            return None
        kind = match.group("k").lower()
        kind = ("pose" if kind.startswith(("pose", "posture")) else
                "depth" if kind.startswith(("depth", "composition", "layout", "structure"))
                else "edges")
        control = self._reference_in(match.group("src") or "") or self._reference_in(c) or \
            CURRENT_IMAGE
        return [Step(tool="control_generate", args={"control_image": control, "kind": kind,
                                                    "prompt": _np(match.group("p"))})]

    def _collage(self, c: str) -> list[Step] | None:
        if not re.search(r"\b(?:collage|composite|compositing|pasted|cut-?outs?|photoshopped|"
                         r"photo-?bashed|montage)\b", c, re.I):
            return None
        match = re.search(r"\blooks?\s+(?:like\s+)?(.+)$", c, re.I)
        description = _np(match.group(1)) if match else "one natural, coherent photo"
        return [Step(tool="refine_collage", args={"description": description})]

    def _remove(self, c: str) -> list[Step] | None:
        match = (re.match(r"^(?:remove|erase|delete|get rid of|take out|take away|cut out|clean up|"
                          r"eliminate|wipe out|wipe away|rub out|edit out|photoshop out|paint out|"
                          r"clone out|clear away|strip out|ditch|lose)\s+(.+)$", c, re.I)
                 or re.match(r"^(?:make|let)\s+(.+?)\s+(?:disappear|vanish|go away)$", c, re.I)
                 or re.match(r"^(?:take|get)\s+(.+?)\s+(?:out|away)(?:\s+of\s+(?:the\s+)?"
                             r"(?:photo|picture|image|shot))?$", c, re.I)
                 or re.match(r"^(?:no more|without)\s+(.+)$", c, re.I))
        if not match:
            return None
        target = _np(re.sub(r"\s+(?:from|out of|in)\s+(?:the|this|my)\s+(?:photo|image|picture|pic|"
                            r"shot)$", "", match.group(1), flags=re.I))
        if re.fullmatch(r"(?:the\s+)?" + BACKGROUND, target, re.I):
            return [Step(tool="replace_background", args={"description": "plain white"})]
        return [Step(tool="remove_object", args={"target": self._target(target, "remove")})]

    def _target(self, target: str, verb: str) -> str:
        """A named thing, or what a pronoun / "the marked area" stands for; else a question."""
        if MARKED.search(target) or (target.lower() in PRONOUNS and self.context.masks):
            if not self.context.masks:
                raise _Question("You mention a marked area, but no mask or scribble came with "
                                "this message: attach one and ask again.")
            return "the marked region"
        if target.lower() not in PRONOUNS and target:
            return target
        last = self._last_object()
        if last:
            return last
        raise _Question(f"What should I {verb}? Name it (e.g. '{verb} the cup') or attach a "
                        f"mask or scribble over it.")

    def _last_object(self) -> str | None:
        """The newest thing an edit put into the picture: what "it" most likely means."""
        if self.introduced:
            return self.introduced
        for version in reversed(self.context.snapshot.line()):
            args = version.args or {}
            if version.tool == "add_object" and args.get("object"):
                return args["object"]
            if version.tool == "replace_object" and args.get("replacement"):
                return args["replacement"]
        return None

    def _background(self, c: str) -> list[Step] | None:
        patterns = (
            r"^(?:change|replace|swap|switch|set|make|turn|update|alter)\s+(?:the\s+|my\s+|our\s+|"
            r"its\s+|their\s+)?" + BACKGROUND + r"\s*(?:to|into|with|for|as|by|:)?\s*(?:be\s+)?"
            r"(?P<d>.+)$",
            r"^(?:i\s+(?:want|need|would like|'d like)\s+|let\s+)?(?:the\s+|a\s+|new\s+)?" +
            BACKGROUND + r"\s*(?::|->|=|to be|should be|be|to|as|of)\s*"
            r"(?P<d>.+)$",
            r"^(?:give\s+(?:it|this|the (?:photo|image|picture)|him|her|them|us|me)|use|want|"
            r"i want|with|add|have|get)?\s*(?:a|an|the|some)?\s*(?P<d>.+?)\s+" + BACKGROUND +
            r"(?:\s+(?:behind\s+\w+|instead))?$",
            r"^(?:put|place|move|take|bring|send|transport|set|drop|teleport|show)\s+(?P<w>" + PERSON
            + r")\s+(?:in front of|next to|against|before|inside|among|amid|under|into|onto|near|"
            r"on|in|at|by|to)\s+(?P<d>.+)$",
        )
        for pattern in patterns:
            match = re.match(pattern, c, re.I)
            if match:
                return [self._background_step(match.group("d"))]
        match = re.match(r"^(?:change|replace|make|turn|set|swap)\s+(?:the\s+)?sky\s*(?:to|into|with|"
                         r"for)?\s*(?:be\s+)?(?:a\s+|an\s+)?(?P<d>.+)$", c, re.I)
        if match:
            description = re.sub(r"\s+one$", "", _np(match.group("d")))
            if "sky" not in description:
                description += " sky"
            return [Step(tool="replace_background", args={"description": description})]
        match = re.match(r"^use\s+(?P<r>.+?)\s+as\s+(?:the\s+|a\s+)?(?:new\s+)?" + BACKGROUND + r"$",
                         c, re.I)
        if match:
            reference = self._reference_in(match.group("r")) or self._require_reference(
                match.group("r"))
            return [Step(tool="replace_background", args={"description": "the reference image",
                                                          "reference": reference})]
        match = re.match(r"^(?:blur|soften|defocus)\s+(?:the\s+|my\s+)?" + BACKGROUND + r"(.*)$", c,
                         re.I)
        if match:
            return [Step(tool="replace_background",
                         args={"description": _np("blurred" + match.group(1))})]
        return None

    def _background_step(self, raw: str) -> Step:
        reference = self._reference_in(raw)
        if reference:
            return Step(tool="replace_background", args={"description": "the reference image",
                                                         "reference": reference})
        description = _np(raw)
        if not description or description.lower() in PRONOUNS:
            raise _Question("What should the new background be? E.g. 'a beach at sunset', "
                            "'studio grey', or attach a reference image.")
        return Step(tool="replace_background", args={"description": description})

    def _camera(self, c: str) -> list[Step] | None:
        lower = c.lower()
        if re.match(r"^zoom(?:ing)?\s+(?:in|out)\b", lower):
            return [_camera_step(c)]
        match = re.match(r"^(?:pull|move|step)\s+(?:the\s+camera\s+)?(?:back|out|away)\b", lower)
        if match:
            return [_camera_step("zoom out" + c[match.end():])]
        if re.match(r"^(?:get|move|go)\s+(?:the\s+camera\s+)?closer\b", lower):
            return [_camera_step("zoom in")]
        if re.match(r"^(?:a\s+)?(?:wider|closer|tighter)\s+(?:shot|framing|crop|view|angle)\b", lower):
            return [_camera_step(c)]
        match = re.match(r"^(?:show|view|see|shoot|photograph|render|make|take|redo|re-?shoot|film|"
                         r"look at|change)\b.*?\b((?:from|at)\s+(?:a|an|the)?\s*" + CAMERA_ANGLE +
                         r"(?:\s+(?:angle|view|side|perspective|shot))?\b.*)$", c, re.I)
        if match:
            return [_camera_step(match.group(1))]
        match = re.match(r"^(?:a\s+|the\s+|give me a\s+|show (?:me\s+)?(?:a|the)\s+|make it a\s+|"
                         r"change (?:it )?to a\s+|switch to a\s+)?((?:side|front|back|rear|top|"
                         r"top-down|aerial|overhead|bird'?s?[- ]?eye|worm'?s?[- ]?eye|close[- ]?up|"
                         r"wide[- ]?angle|wide|panoramic|profile|three[- ]quarters?|isometric|"
                         r"low[- ]angle|high[- ]angle)\s*(?:view|shot|angle|perspective|profile)\b"
                         r".*|close[- ]?up.*)$", c, re.I)
        if match:
            return [_camera_step(match.group(1))]
        if re.match(r"^(?:rotate|spin|tilt)\b", lower) or re.match(
                r"^turn\s+(?:it|this|the (?:image|photo|picture))\s+(?:upside down|\d+|ninety|"
                r"(?:to the\s+)?(?:left|right)|clockwise|counter-?clockwise|anti-?clockwise|"
                r"sideways)", lower):
            return [_camera_step(c)]
        if re.match(r"^(?:move|pan|tilt|shift|raise|lower|swing)\s+the\s+camera\b", lower):
            return [_camera_step(c)]
        if re.match(r"^(?:flip|mirror)\b", lower) or re.match(r"^crop\b", lower):
            return [_camera_step(c)]
        return None

    def _light_explicit(self, c: str) -> list[Step] | None:
        if not re.search(LIGHT, c, re.I):
            return None
        match = re.match(r"^relight(?:\s+(?:the\s+(?:scene|photo|image|picture|shot|subject|face)|"
                         r"it|this|everything|him|her|them))?\s*(?:with|to|as|in|using|for|so "
                         r"(?:it|that it) (?:looks?|feels?))?\s*(?P<d>.*)$", c, re.I) or \
            re.match(r"^(?:make|set|change|turn|adjust|switch)\s+(?:the\s+)?(?:lighting|lights|light|"
                     r"illumination)\b(?:\s+in\s+the\s+\w+)?\s*(?:to|into|be)?\s*(?P<d>.+)$",
                     c, re.I) or \
            re.match(r"^(?:add|use|give(?:\s+(?:it|the (?:photo|scene|image|picture)))?|put|cast|"
                     r"shine|throw|apply)\s+(?:a\s+|an\s+|some\s+)?(?P<d>.+)$", c, re.I) or \
            re.match(r"^light\s+(?:it|the (?:scene|subject|photo|face|image))\s+(?P<d>.+)$", c,
                     re.I) or \
            re.match(r"^(?:make|have)\s+(?:it|the (?:photo|image|picture|scene))\s+(?:look\s+|feel\s+)?"
                     r"(?:like\s+)?(?P<d>.+)$", c, re.I) or \
            re.match(r"^(?P<d>(?:a\s+|an\s+|more\s+|less\s+|some\s+)*\w[\w\s-]*\s+(?:light|lighting)"
                     r"\b.*)$", c, re.I)
        if not match:
            return None
        description = _np(match.group("d"))
        if description.startswith("from "):
            description = "light " + description
        if not description:
            raise _Question("What light would you like? E.g. 'warm light from the left', "
                            "'golden hour', 'night'.")
        return [Step(tool="relight", args={"description": description})]

    def _style(self, c: str) -> list[Step] | None:
        match = re.search(r"\b(?:in|into|with|to|give (?:it|this|the (?:photo|image|picture)))\s+"
                          r"the\s+(?:style|look|colou?rs|palette|mood|feel)\s+of\s+(?P<s>.+)$", c,
                          re.I) or \
            re.search(r"^(?:match|copy|use|borrow|take)\s+(?:the\s+)?(?:style|look|colou?rs|palette|"
                      r"mood|feel)\s+(?:of|from)\s+(?P<s>.+)$", c, re.I) or \
            re.match(r"^(?:make|give)\s+(?:it|this|the (?:photo|image|picture))\s+(?:look|feel)\s+"
                     r"like\s+(?P<s>(?:the|this|that)\s+(?:\w+\s+)?(?:image|picture|photo|pic|"
                     r"reference).*)$", c, re.I)
        if match:
            reference = self._reference_in(match.group("s"))
            if reference is None and re.search(r"\b(?:image|picture|photo|pic|reference)\b",
                                               match.group("s"), re.I):
                reference = self._require_reference(match.group("s"))
            if reference:
                return [Step(tool="style_transfer", args={"style": f"the look of {reference}",
                                                          "reference": reference})]
            return [Step(tool="style_transfer", args={"style": _style_name(match.group("s"))})]
        if not re.search(STYLE, c, re.I):
            return None
        match = re.match(r"^(?:in\s+|as\s+)?(?:a\s+|an\s+)?(?P<s>.+?)[- ]style$", c, re.I) or \
            re.match(r"^(?:make|turn|convert|transform|render|redo|re-?render|paint|draw|change|"
                     r"stylize|stylise|recreate|give|apply|do|style|redraw)\s+(?:this (?:photo|image|"
                     r"picture|pic|shot)|the (?:photo|image|picture|pic|scene|whole thing|shot)|it|"
                     r"this|that|everything|me)?\s*(?:look\s+like|looks?\s+like|feel\s+"
                     r"like|into|in|as|to|like|to look like|a|an)?\s*(?:a\s+|an\s+|the\s+)?"
                     r"(?P<s>.+)$", c, re.I) or \
            re.match(r"^(?:a\s+|an\s+)?(?P<s>.+)$", c, re.I)
        if not match or not re.search(STYLE, match.group("s"), re.I):
            return None
        return [Step(tool="style_transfer", args={"style": _style_name(match.group("s"))})]

    def _light_look(self, c: str) -> list[Step] | None:
        match = re.match(r"^(?:make|turn|set|change|render)\s+(?:it|this|that|everything|the "
                         r"(?:photo|image|picture|scene|shot|whole thing|mood))\s+(?:look\s+(?:like\s+)?"
                         r"|feel\s+(?:like\s+)?|to\s+|into\s+|more\s+like\s+)?(?:(?:a|an|at)\s+(?!bit\b|little\b|"
                         r"touch\b|tad\b))?"
                         r"(?P<d>(?:(?:a\s+)?(?:bit|little|touch|tad)\s+|slightly\s+|much\s+|more\s+|"
                         r"even\s+|way\s+|less\s+|really\s+|very\s+)*" + LIGHT_LOOK + r"\b.*)$",
                         c, re.I) or \
            re.match(r"^(?:an?\s+)?(?P<d>(?:(?:a\s+)?(?:bit|little|touch|tad)\s+|slightly\s+|much\s+|more\s+|"
                     r"even\s+|way\s+|less\s+|too\s+|really\s+|very\s+|not\s+(?:so|as|too)\s+)*"
                     + LIGHT_LOOK +
                     r"(?:\s+(?:still|again|please|light|tones?|colou?rs|mood|look|feel))*)$",
                     c, re.I) or \
            re.match(r"^(?:turn|change)\s+(?:the\s+)?(?:day|daytime|daylight)\s+(?:in)?to\s+(?P<d>.+)$",
                     c, re.I)
        if match:
            return [Step(tool="relight", args={"description": _np(match.group("d"))})]
        match = re.match(r"^(warm|cool|brighten|darken|dim|lighten)\s*(?:up|down)?\s*(?:it|this|the "
                         r"(?:photo|image|picture|scene|colou?rs|tones?|shot))?\s*(?:up|down)?\s*"
                         r"(a\s+(?:bit|little|lot|touch)|slightly|much)?$", c, re.I)
        if match:
            word = {"warm": "warmer", "cool": "cooler", "brighten": "brighter", "lighten":
                    "brighter", "darken": "darker", "dim": "darker"}[match.group(1).lower()]
            amount = match.group(2)
            return [Step(tool="relight", args={"description": f"{amount} {word}" if amount
                                               else word})]
        return None

    def _replace(self, c: str) -> list[Step] | None:
        match = re.match(r"^(?:replace|swap|exchange|switch|trade)\s+(?P<t>.+?)\s+(?:with|for|by|"
                         r"to|into)\s+(?P<r>.+)$", c, re.I) or \
            re.match(r"^(?:change|turn|transform|convert|morph|make)\s+(?P<t>.+?)\s+(?:in)?to\s+"
                     r"(?P<r>.+)$", c, re.I) or \
            re.match(r"^(?:make|turn)\s+(?P<t>(?:the|his|her|my|our|their)\s+.+?)\s+(?:a|an)\s+"
                     r"(?P<r>.+)$", c, re.I)
        if not match:
            return None
        target, replacement = _np(match.group("t")), _np(match.group("r"))
        if re.fullmatch(PHOTO, match.group("t").strip(), re.I) or not replacement:
            return None  # "turn it into a tiger": no object named; the free-form edit takes it
        if re.match(r"colou?r\b|season|weather|mood|atmosphere|vibe|feel\b|look\b", target) or (
                _is_colour(replacement) and not DETERMINERS.match(match.group("r").strip())):
            return None  # a new colour or mood, not a new object: the free-form edit says it best
        if re.match(r"time of (?:the )?day|lighting|light\b", target):
            return [Step(tool="relight", args={"description": replacement})]
        return [Step(tool="replace_object", args={"target": self._target(target, "replace"),
                                                  "replacement": replacement})]

    def _add(self, c: str) -> list[Step] | None:
        match = re.match(r"^give\s+(?P<w>(?!it\b|this\b|me\b).+?)\s+(?:a|an|some)\s+(?P<o>.+)$", c,
                         re.I)
        if match:
            return [Step(tool="add_object", args={"object": _np(match.group("o")),
                                                  "where": "on " + _np(match.group("w"))})]
        match = re.match(r"^(?:add|put|place|insert|include|draw|paint|stick|drop|throw in|plant|"
                         r"hang|sprinkle|scatter|there should be|i want|i'd like|let'?s have|we "
                         r"need)\s+(?P<rest>.+)$", c, re.I)
        if not match:
            return None
        rest = match.group("rest")
        split = re.search(PREPOSITION, rest, re.I)
        thing = rest[: split.start()] if split else rest
        where = rest[split.start():].strip() if split else None
        thing = _np(thing)
        if not thing or thing.lower() in PRONOUNS:
            raise _Question("What should I add? Name it, e.g. 'add a red balloon in the sky'.")
        args = {"object": thing}
        if where:
            args["where"] = where.lower()
        return [Step(tool="add_object", args=args)]

    # attached images ------------------------------------------------------------------------

    def _reference_in(self, text: str) -> str | None:
        """'the second image' -> 'reference 1' (the first image is the photo being edited)."""
        match = re.search(r"\b(?:reference|ref)(?:\s+(?:image|picture|photo))?\s*#?\s*(\d+)\b", text,
                          re.I)
        if match:
            return f"reference {int(match.group(1))}"
        match = re.search(r"\b(?:image|picture|photo|pic)\s*#?\s*(\d+)\b", text, re.I)
        if match and int(match.group(1)) >= 2:
            return f"reference {int(match.group(1)) - 1}"
        match = re.search(r"\b" + ORDINAL + r"\s+(image|picture|photo|pic|one|reference|upload|"
                          r"attachment)\b", text, re.I)
        if match:
            number = ORDINALS[match.group(1).lower()]
            if number == -1:
                return f"reference {max(self.context.references, 1)}"
            if match.group(2).lower() in ("reference", "attachment", "upload"):
                return f"reference {number}"
            return f"reference {number - 1}" if number >= 2 else None
        if re.search(r"\b(?:the|this|my)\s+(?:reference|ref|attached|uploaded|other|new)(?:\s+(?:image|"
                     r"picture|photo|pic|one))?\b", text, re.I):
            return "reference 1"
        if self.context.references and re.search(r"\b(?:this|that|the)\s+(?:image|picture|photo|"
                                                  r"pic)\b", text, re.I):
            return "reference 1"
        return None

    def _require_reference(self, text: str) -> str:
        raise _Question(f"You mention {_np(text) or 'an image'}, but no reference image came with "
                        f"this message: attach it and ask again.")


# ----- small helpers --------------------------------------------------------------------------

_CHAT = re.compile(
    r"^(?:(?:thanks|thank you(?: so much| very much)?|thx|ty|cheers|great|perfect|nice|awesome|"
    r"cool|wow|amazing|beautiful|excellent|lovely|love it|i love it|good job|well done|ok|okay|"
    r"fine|hello|hi|hey|good morning|good evening|bye|goodbye|yes|yay|sweet|brilliant|no|nope|"
    r"fantastic)(?:\s*[!.,;:]+.*|\s*!*|\s+(?:that|this|it)\s+(?:is|looks|'s).*)|(?:that|it|this)"
    r"(?:'s|\s+is|\s+looks|\s+seems)\s+(?:really\s+|so\s+|very\s+)?(?:great|good|nice|perfect|"
    r"better|fine|amazing|awesome|beautiful|lovely|much better)\W*)$", re.I)
_CAPABILITIES = re.compile(
    r"^(?:what (?:can|could) you do|what do you do|what are you able to do|help|what (?:edits|"
    r"operations|tools|things) (?:can you (?:do|make)|do you (?:know|support|have))|how does this "
    r"work|what(?:'s| is) possible|what can i (?:ask|do|say)(?: you)?|what are your (?:capabilities|"
    r"features|skills)|who are you|what are you)\W*$", re.I)


def _tidy(clause: str) -> str:
    clause = clause.strip(" ,;:")
    previous = None
    while previous != clause:
        previous = clause
        clause = FILLERS.sub("", clause).strip(" ,;:")
        clause = TRAILING.sub("", clause).strip(" ,;:")
    return clause


def _cut(text: str, match: re.Match) -> str:
    return (text[: match.start()] + " " + text[match.end():]).strip()


def _np(text: str | None) -> str:
    """A noun phrase without leading articles, trailing politeness or punctuation; lower case."""
    text = " ".join((text or "").split()).strip(" ,.;:!?\"'")
    text = TRAILING.sub("", text)
    text = re.sub(r"\s+(?:instead|entirely|completely|for me|as well|too|please|now)$", "", text,
                  flags=re.I)
    text = DETERMINERS.sub("", text)
    return text.strip(" ,.;:!?").lower()


def _strip_image_words(text: str) -> str:
    return re.sub(r"\s+(?:from|in|on)\s+(?:the|this|my)\s+(?:\w+\s+)?(?:image|picture|photo|pic|"
                  r"reference)$", "", text, flags=re.I)


def _style_name(text: str) -> str:
    style = _np(text)
    style = re.sub(r"\s+(?:style|effect|look|filter|version|rendition)$", "", style)
    style = re.sub(r"^(?:style|look)\s+of\s+", "", style)
    return style or _np(text)


def _count(word: str | None) -> int:
    word = (word or "").lower().strip()
    word = re.sub(r"^a\s+", "", word).replace(" of", "")
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word, 1)


def _steps_in(text: str) -> int:
    match = re.search(r"\b" + NUMBER + r"\s+(?:\w+\s+)?(?:edits?|steps?|changes?|times|versions?|"
                      r"things)\b", text, re.I)
    if match:
        return _count(match.group(1))
    if re.search(r"\btwice\b", text, re.I):
        return 2
    if re.search(r"\bthrice\b", text, re.I):
        return 3
    return 1


def _is_literal(text: str | None) -> bool:
    """Quoted, or written in capitals like a sign: text to render, not an object."""
    text = (text or "").strip()
    return bool(re.fullmatch(r"QUOTE\d+Q", text)) or (
        any(ch.isalpha() for ch in text) and text.upper() == text)


def _literal(text: str) -> str:
    text = text.strip()
    text = re.sub(r"^(?:the\s+)?(?:word|words|text)\s+", "", text, flags=re.I)
    return TRAILING.sub("", text).strip(" ,;:") if not re.fullmatch(r"QUOTE\d+Q", text) else text


def _is_colour(text: str) -> bool:
    from PIL import ImageColor

    try:
        ImageColor.getrgb(text.replace(" ", ""))
        return True
    except ValueError:
        return text in ("blonde", "blond", "brunette", "ginger", "golden", "silver")


def _camera_step(text: str) -> Step:
    description = re.sub(r"^(?:show|view|see|shoot|photograph|render|make|take|change)\s+"
                         r"(?:it|this|me|us|the (?:photo|image|picture|scene))?\s*", "", text,
                         flags=re.I)
    description = re.sub(r"^(?:rotate|flip|mirror|tilt|spin|turn|crop)\s+(?:it|this|the (?:photo|"
                         r"image|picture))\s*", lambda m: m.group(0).split()[0] + " ", description,
                         flags=re.I)
    return Step(tool="change_camera", args={"description": _np(description) or _np(text)})


def _set_variants(steps: list[Step], count: int) -> None:
    edits = [step for step in steps if step.is_edit]
    if edits:
        edits[-1].variants = count


def _preview(steps: list[Step]) -> str:
    return "Plan: " + "; then ".join(step_in_words(step) for step in steps) + "."
