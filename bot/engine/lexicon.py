"""Constant word tables for the intent matcher: contractions, phrases, concept synonyms and function words.

Concepts are upper-case names. A word or phrase that maps to a concept counts as the same evidence as
every other spelling of it, so "pricey", "costly" and "steep" all match an example that says "expensive".
Everything here is immutable; the matcher compiles these tables once per flow version.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# Markers emitted in place of words. They steer polarity and are never features themselves.
NEG: Final = "<neg>"  # negates the next few content words: "no budget", "not ready"
OK: Final = "<ok>"  # reassures about the words before it: "price is fine", "budget is approved"


def _table(groups: Mapping[str, str]) -> Mapping[str, str]:
    """Expand {concept: "spelling | spelling ..."} into a read-only {spelling: concept} map."""
    out: dict[str, str] = {}
    for concept, spellings in groups.items():
        for spelling in spellings.split("|"):
            out[spelling.strip()] = concept
    return MappingProxyType(out)


def _words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words."""
    return frozenset(text.split())


# Contractions after the apostrophe was normalised to "'", by the ending that follows the stem.
# "n't" covers "don't", "isn't", ...; the irregular stems are listed whole.
IRREGULAR_CONTRACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {"can't": "can not", "won't": "will not", "shan't": "shall not", "ain't": "is not", "let's": "let us"}
)
CONTRACTION_ENDINGS: Final[Mapping[str, str]] = MappingProxyType(
    {"n't": " not", "'re": " are", "'m": " am", "'ve": " have", "'ll": " will", "'d": " would"}
)
# Words whose "'s" is "is" ("it's", "what's"); any other "'s" is a possessive ("company's") and is dropped.
IS_CONTRACTIONS: Final = _words("it that what there here he she who where how when this everything nothing")

# Contractions typed without the apostrophe. Only unambiguous ones: "were", "ill", "its" are real words.
BARE_CONTRACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "dont": "do not",
        "doesnt": "does not",
        "didnt": "did not",
        "cant": "can not",
        "cannot": "can not",
        "couldnt": "could not",
        "wont": "will not",
        "wouldnt": "would not",
        "shouldnt": "should not",
        "isnt": "is not",
        "arent": "are not",
        "wasnt": "was not",
        "werent": "were not",
        "havent": "have not",
        "hasnt": "has not",
        "hadnt": "had not",
        "aint": "is not",
        "im": "i am",
        "ive": "i have",
        "youre": "you are",
        "theyre": "they are",
        "weve": "we have",
        "whats": "what is",
        "thats": "that is",
        "theres": "there is",
        "lets": "let us",
        "u": "you",
        "ur": "your",
        "pls": "please",
        "plz": "please",
        "thx": "thanks",
        "ty": "thanks",
    }
)

# Multi-word expressions, matched on whole words (compared by light stem, longest phrase first) before
# single words. A value is one or more concepts or markers; "" drops the phrase as filler.
PHRASES: Final[Mapping[str, str]] = _table(
    {
        OK: "does not matter | do not matter | not matter | no problem | not a problem | not an issue"
        " | no issue | no issues | not a concern | no concern | not a big deal | no big deal"
        " | no object | not an obstacle | not a blocker | no blocker | all good | all set"
        " | taken care of | sorted out",
        "BAD": "not good | not a good | not great | not ideal | not the best | not the right",
        "EXPENSIVE": "not afford | never afford | unable to afford | not pay that | not pay this | not justify"
        " | not worth | too much | too high | a lot of money | lot of money"
        " | out of our price range | out of our range | out of reach | more than we can afford"
        " | more than we could afford | more than we can pay | rip off",
        "PRICE": "how much | price tag | price range | per seat | per user | per month | per year",
        "NOW": "right now | at the moment | at this point | this week",
        "WHEN": "next year | next month | next quarter | next week | this year | this quarter"
        " | this month | end of the year | end of year",
        "LATER": "maybe next | perhaps next | possibly next | maybe in a | later on | couple of months"
        " | few months | ask me again | ask again | try again | ping me in | ping me later"
        " | get back to me | reach out in | talk next | speak next | chat next | talk later"
        " | speak later | chat later | talk in a | follow up in | few weeks | down the road"
        " | some other time | another time | in the future | circle back | check back"
        " | reach out again | touch base | follow up",
        "BUSY": "swamped | slammed | snowed under | too busy | on my plate | a lot going on",
        "NO_THANKS": "no thanks | no thank you | nah thanks | thanks but no | not for us | not for me"
        " | not a fit | not a good fit | not relevant",
        "EMAIL": "e mail | by email | via email | in writing | inbox",
        "DOCS": "one pager | more info | more information | some info | some information | the info"
        " | the details | more details | some details | white paper | case study | case studies",
        "VENDOR": "in house | home grown | homegrown | our own | someone else | another company"
        " | other company | another provider | another vendor | another solution | other solution"
        " | another tool | other tool | other tools | similar tool | something similar",
        "APPROVE": "up to my | up to the | up to our | sign off | signoff | decision maker | decision makers"
        " | my call | final say | green light | go ahead | say so",
        "CHECK": "run it by | run this by | run that by | check with | ask my | ask our | ask the | talk to my"
        " | speak to my | consult with | loop in | discuss with | discuss it with | discuss internally",
        "SECURITY": "soc 2 | soc ii | iso 27001 | pen test | penetration test | data protection | infosec",
        "CONTRACT": "go monthly | monthly contract | monthly basis | month by month | lock in | locked in"
        " | lockin | tied in | tied down | locked into | long term | annual contract | multi year"
        " | month to month | notice period | minimum term",
        "CANCEL": "cancel anytime | cancel any time | opt out of the contract | get out of",
        "INTEGRATE": "plug into | plug in | hook up | hook into | talk to our | sync with | connect to"
        " | connect with our | work with our",
        "TRIAL": "test drive | try out | try it | test it | test it out | demo account | sandbox account"
        " | proof of concept | trial period | try before",
        "FREE": "for free | free of charge | no cost | at no cost | freemium | free plan | free version | free tier",
        "WHATIS": "what is it | what is this | what is that | what does it do | what does this do"
        " | what it does | what this does | what do you do | what do you guys do | what you do"
        " | what you guys do | what do you sell | what you sell | what you guys sell"
        " | what are you selling | what you are selling | what do you offer"
        " | what are you offering | how does it work | how it works | what is this about"
        " | what this is about | what is the product | what are you",
        "WHERE": "where is | where are | where do | where does | which region | what region"
        " | which country | which cloud | what cloud",
        "REGION": "in the us | in the usa | the united states | in europe | in the eu | eu based | us based",
        "DURATION": "how long | how quickly | how fast | how soon | how much time | how much effort"
        " | how much work | time to value",
        "SETUP": "are live | be live | until live | set up | set it up | set this up | set us up"
        " | get started | getting started | up and running | go live | going live | roll out",
        "PERSON": "real person | live person | real human | live agent | a human | someone from"
        " | anyone there | sales team | sales rep | sales person | sales people"
        " | account executive",
        "TALK": "connect me | put me through | get in touch | call me | give me a call | reach me | ring me",
        "RESTART": "start over | start again | begin again | start afresh | from scratch | from the top"
        " | from the start | from the beginning | back to the start | back to the beginning"
        " | do over | start from scratch | redo",
        "STOP": "not text me | not message me | not email me | not call me | not contact me"
        " | leave me alone | opt out | opt me out | take me off | remove me | delete me | go away"
        " | do not contact | stop contacting | stop messaging | stop texting | stop emailing"
        " | no more messages",
        f"APPROVE {OK}": "no approval needed | no approval required | no approval necessary | not need approval"
        " | not need any approval | no sign off needed | no sign off required",
        "": "the chat | this chat | the conversation | this conversation | to be honest | kind of"
        " | sort of | you know | i mean | by the way | as well | in general | thank you | a bit"
        " | a little",
    }
)

# Single words (also looked up by their light stem) that name a concept. The few multi-word keys here
# belong with their concept and are moved to the phrases when the matcher compiles the tables.
SYNONYMS: Final[Mapping[str, str]] = _table(
    {
        "EXPENSIVE": "expensive | pricey | pricy | costly | steep | overpriced | exorbitant | insane"
        " | outrageous | ridiculous | spendy | unaffordable | premium | hefty",
        "CHEAP": "cheap | cheaper | cheapest | affordable | afford | inexpensive | discount | discounts",
        "PRICE": "price | prices | pricing | priced | cost | costs | costing | fee | fees | charge"
        " | charges | quote | rate | rates | subscription | license | licence | licensing | seat"
        " | seats",
        f"{NEG} BUDGET": "out of budget | over budget | out of money | ran out of money | run out of money",
        "BUDGET": "budget | budgets | budgeted | money | cash | funds | funding | fund | spend | spending",
        "CUT": "cut | cuts | slashed | frozen | freeze | spent | exhausted | gone | tight | allocated",
        "NOW": "now | today",
        "LATER": "later | revisit | postpone | someday | eventually | future | reconnect",
        "BUSY": "busy | swamped | slammed | hectic | overloaded",
        "TIME": "time | timing | moment",
        "READY": "ready | prepared",
        "SEND": "send | sending | forward | share | shoot | drop | mail | mailed",
        "EMAIL": "email | emails | emailed | inbox",
        "DOCS": "info | information | details | brochure | brochures | deck | slides | pdf | material"
        " | materials | datasheet | whitepaper | documentation | docs | literature | collateral"
        " | read",
        "VENDOR": "vendor | vendors | provider | providers | supplier | competitor | competitors"
        " | competition | alternative | inhouse",
        "ALREADY": "already | existing | current | currently",
        "USE": "went with | go with | going with | signed with | use | uses | using | used | chose | picked",
        "APPROVER": "boss | manager | managers | cfo | ceo | cto | coo | cio | vp | director | head | founder"
        " | founders | leadership | management | board | exec | execs | executive | executives"
        " | owner | procurement | finance | legal | superior | supervisor",
        "APPROVE": "approve | approval | approves | decide | decides | decision | decisions | authority"
        " | authorize | authorise | permission",
        "CHECK": "check | consult",
        "SECURITY": "secure | security | safe | safety | protect | protection | protected | encryption"
        " | encrypted | encrypt | gdpr | soc | soc2 | iso27001 | hipaa | ccpa | compliance"
        " | compliant | privacy | pentest | infosec | audit | audited | sso | saml | breach",
        "DATA": "data",
        "INTEREST": "interested | interest | interesting | keen | looking for | in the market",
        "CONTRACT": "contract | contracts | commitment | committed | commit | locked | annual | yearly | term",
        "CANCEL": "cancel | cancellation | cancelling | canceling | terminate | termination | exit | churn",
        "INTEGRATE": "integrate | integrates | integration | integrations | integrated | api | apis | plugin"
        " | plugins | connector | connectors | connect | webhook | webhooks | sync | syncs"
        " | embed | push | export | import",
        "APP": "salesforce | hubspot | zapier | slack | pipedrive | zoho | crm | marketo | gmail"
        " | outlook | zendesk | intercom | shopify | calendly | stack | erp",
        "TRIAL": "trial | trials | try | test | testing | sandbox | pilot | poc",
        "FREE": "free | freemium | gratis",
        "PLAN": "plan | plans | tier | tiers | package | packages | edition",
        "WHATIS": "explain | overview",
        "PRODUCT": "product | products | platform | software | tool | solution | service | app | system"
        " | company | thing",
        "SELL": "sell | offering",
        "HOST": "host | hosted | hosting | hosts | store | stored | stores | storage | kept | keep"
        " | lives | located | location | locations | residency | resides | reside | server"
        " | servers | datacenter | datacenters",
        "REGION": "eu | europe | european | usa | uk | germany | region | regions | country | countries",
        "CLOUD": "cloud | aws | azure | gcp",
        "SETUP": "setup | onboarding | onboard | implementation | implement | implementing | install"
        " | installation | deploy | deployment | configure | configuration | rollout | migrate",
        "DURATION": "quickly | fast | soon | timeline | timeframe",
        "PERSON": "person | human | someone | somebody | anyone | anybody | rep | representative | agent"
        " | agents | salesperson | operator | reps",
        "TALK": "talk | speak | chat | call | phone | meet | meeting",
        "BOT": "bot | robot | chatbot | ai",
        "RESTART": "restart | reset | redo | restarting | startover",
        "START": "start | begin | beginning",
        "STOP": "stop | unsubscribe | unsub | optout | quit | spam | spamming",
        "MESSAGE": "message | messages | messaging | text | texts | texting | contact | contacting | ping"
        " | pinging | bother | bothering | emailing",
        "BAD": "bad | poor | terrible | awful | wrong | tough",
        "CONCERN": "issue | issues | problem | problems | concern | concerns | concerned | worry | worried"
        " | worries | hesitant | blocker | blockers | constraint | constraints",
        "NEED": "need | needs | must | require | required | requires | requirement | requirements",
        "WANT": "want | wants | prefer | rather",
    }
)


NEGATORS: Final = _words("not no nope nah never without nothing none zero nobody nor neither")

# Words that reassure about what came before them when predicated: "security is fine", "budget is approved".
REASSURANCES: Final = _words(
    "fine ok okay good great right perfect approved covered sorted solid excellent reasonable fair acceptable"
)

# Linking verbs that make a reassurance predicative. They must also be stopwords (see STOPWORDS).
COPULAS: Final = _words(
    "is are was were be been am look looks looked seem seems seemed sound sounds sounded feel feels felt"
)

# Words that end a negator's reach: "not for us" does not negate "us", "no, but send info" not "send".
SCOPE_BREAKERS: Final = _words("but because since so though although until while and or for if yet")

# Words and concepts a negator reaches through without using up its reach ("do not really need any api").
LIGHT_WORDS: Final = _words("NEED WANT USE really even any actually currently")

# Question words stay as (weak) features: "where" separates data location from security.
QUESTION_WORDS: Final = _words("what how where when which who why")

_FUNCTION_WORDS: Final = _words(
    """
    a an the this that these those it its i me my mine myself we us our ours ourselves you your yours he
    him his she her they them their there here being do does did doing done have has had having will
    would shall should can could may might of to in on at by with from about into onto over under as than
    then also just only very really quite pretty too so such some any all each every more most much many
    few other another own same again please first up thanks thank hi hello hey yes yeah yep sure maybe
    perhaps probably honestly actually basically literally kinda sorta tbh imo lol guys folks team get got
    getting give take takes took make makes made let lets one ones thing things stuff something anything
    everything way well even still ever exactly right like oh um uh hmm anymore anyway okay ok alright
    available availability offer offers offered provide provides exist
    """
)

# Function words: never features, but kept as items so the copula before a reassurance can be seen.
STOPWORDS: Final = (_FUNCTION_WORDS | COPULAS) - QUESTION_WORDS - NEGATORS

# Concepts that only ever add context. They count, but an example made only of them cannot fire.
WEAK_CONCEPTS: Final = _words("NEED WANT USE TIME DATA PRODUCT NOW WHEN")

# Everyday words that are not typos of anything, so typo correction leaves them alone (and is skipped).
COMMON_WORDS: Final = _words(
    """
    sorry yes no ok okay thanks great cool nice awesome good bad fine hi hello hey bye morning afternoon
    evening company business startup team people employees users customers clients leads sales marketing
    support product engineering finance operations month months week weeks year years day days quarter
    today tomorrow yesterday monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december soon asap about around roughly
    approximately between under over less more than per million thousand hundred dozen name email phone
    number website address city country office remote hybrid startup enterprise agency small medium large
    middle migration project process growth revenue pipeline demo book schedule meeting works work working
    think know believe guess hope mean said says told tell show help helps question questions answer
    answers sure right wrong maybe perhaps also still already just only really very
    """
)
