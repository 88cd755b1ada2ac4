"""A problem's detail and field messages in the request's language: Danish unless English was asked for.

The code says what went wrong in English, where it is raised (``InvalidInput("due_on", "must not be in the
past.")``); this module holds the Danish for every such message, keyed by the English text. A message built
with values (an f-string) is keyed by its template with ``{}`` for each value, and the values are carried
over. Pydantic's own field errors are said by their error type and its context (``string_too_long`` with
``max_length``). Every message the source raises has its Danish here (tested by walking the source); one
without (from a library) is said by the problem code's Danish text rather than in English.
"""

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from backend.problem_texts import DANISH, danish, language

# English message (or template, ``{}`` for each value) -> Danish.
DANISH_DETAILS: dict[str, str] = {
    # The request itself
    "The request body is too large.": "Det sendte er for stort.",
    "The body may be at most {} bytes.": "Det sendte må højst fylde {} byte.",
    "This method is not allowed here.": "Det kan ikke gøres her.",
    "{} is not allowed on this path.": "{} kan ikke bruges på denne adresse.",
    "The service is temporarily unavailable.": "Tjenesten er midlertidigt utilgængelig.",
    "The database cannot be reached. Try again shortly.": "Databasen kan ikke nås. Prøv igen om lidt.",
    "Invalid Content-Length header.": "Content-Length-headeren er ugyldig.",
    "Content-Length must be a non-negative whole number of bytes.": (
        "Content-Length skal være et helt, ikke-negativt antal byte."
    ),
    "Not found.": "Det findes ikke, eller du har ikke adgang til det.",
    "The multipart body cannot be read.": "Det sendte (multipart) kan ikke læses.",
    "A value is out of range.": "En værdi ligger uden for det mulige.",
    "A date or number is out of range.": "En dato eller et tal ligger uden for det mulige.",
    "The request conflicts with the current state.": "Forespørgslen passer ikke med den nuværende tilstand.",
    "Another change got there first. Reload and try again.": "En anden ændring kom først. Hent igen og prøv igen.",
    "Something went wrong on our side.": "Der skete en fejl hos os.",
    "The error is logged.": "Fejlen er logget.",
    "The request contains invalid data.": "Forespørgslen indeholder ugyldige data.",
    "Authentication is required.": "Du skal være logget ind.",
    "A valid, unexpired access token is required.": "Der kræves en gyldig adgangsnøgle, som ikke er udløbet.",
    "Cannot parse request body": "Det sendte kan ikke læses som JSON.",
    "CSRF check Failed": "CSRF-kontrollen fejlede.",
    "The request cannot be carried out.": "Forespørgslen kan ikke udføres.",
    "Your role does not allow this operation.": "Din rolle giver ikke adgang til dette.",
    "Too many attempts. Try again later.": "For mange forsøg. Prøv igen senere.",
    "Locked after repeated failed attempts. An administrator can lift the lock.": (
        "Spærret efter gentagne forkerte forsøg. En administrator kan ophæve spærringen."
    ),
    "The service is temporarily unavailable. Try again shortly.": (
        "Tjenesten er midlertidigt utilgængelig. Prøv igen om lidt."
    ),
    "The cursor is not valid.": "Markøren (cursor) er ugyldig.",
    "The benchmark compares whole municipalities: no team or unit filter.": (
        "Sammenligningen er mellem hele kommuner: filtrér ikke på team eller enhed."
    ),
    "Your municipality does not take part in the benchmark.": "Jeres kommune er ikke med i sammenligningen.",
    "The cursor is not valid for this sort order.": "Markøren (cursor) passer ikke til denne sortering.",
    "The cursor is not valid for these filters.": "Markøren (cursor) passer ikke til disse filtre.",
    # Retries
    "Retry in a moment: the first request's answer is then given again.": (
        "Prøv igen om et øjeblik: så gives svaret på den første forespørgsel igen."
    ),
    "An Idempotency-Key is 1–128 visible ASCII characters.": ("En Idempotency-Key er 1–128 synlige ASCII-tegn."),
    "This Idempotency-Key was used with a different request body.": (
        "Denne Idempotency-Key er brugt til en forespørgsel med andet indhold."
    ),
    "A request with this Idempotency-Key is still being processed.": (
        "En forespørgsel med denne Idempotency-Key er stadig i gang."
    ),
    "Someone else changed this in the meantime. Reload it and try again.": (
        "En anden har ændret dette imens. Hent det igen og prøv igen."
    ),
    # Login and access
    "A valid CSRF token is required in the X-CSRFToken header.": (
        "Der kræves en gyldig CSRF-nøgle i headeren X-CSRFToken."
    ),
    "The identity provider refused the login.": "Identitetsudbyderen afviste login.",
    "The identity provider returned no ID token.": "Identitetsudbyderen sendte ingen ID-token.",
    "The ID token signature is not valid.": "ID-tokenets signatur er ugyldig.",
    "The ID token was rejected ({}).": "ID-tokenet blev afvist ({}).",
    "The login's assurance level is too low; NSIS Substantial or higher is required.": (
        "Login har for lavt sikringsniveau; der kræves NSIS Betydelig eller højere."
    ),
    "The identity provider cannot be reached.": "Identitetsudbyderen kan ikke nås.",
    "The identity provider answered unexpectedly.": "Identitetsudbyderen svarede uventet.",
    "The identity provider's issuer does not match.": "Identitetsudbyderens udsteder (issuer) passer ikke.",
    "The identity provider's metadata is incomplete.": "Identitetsudbyderens metadata er ufuldstændige.",
    "The identity provider published unusable keys.": "Identitetsudbyderen har offentliggjort ubrugelige nøgler.",
    "The identity provider did not complete the login.": "Identitetsudbyderen gennemførte ikke login.",
    "This login is not configured on this installation.": "Dette login er ikke sat op her.",
    "A refresh token is required.": "Der kræves en fornyelsesnøgle (refresh token).",
    "username, password and totp_code are required.": "username, password og totp_code skal udfyldes.",
    "code, code_verifier and redirect_uri are required.": "code, code_verifier og redirect_uri skal udfyldes.",
    "The refresh token is not valid.": "Fornyelsesnøglen er ugyldig.",
    "The session has been signed out.": "Du er logget ud.",
    "This refresh token was already used; the session has been signed out.": (
        "Fornyelsesnøglen er allerede brugt; du er logget ud af sikkerhedshensyn."
    ),
    "The refresh token has expired.": "Fornyelsesnøglen er udløbet.",
    "Password login is not enabled; log in through your identity provider.": (
        "Log ind med adgangskode er slået fra; log ind via din identitetsudbyder."
    ),
    "This redirect URI is not registered for the app.": "Denne redirect-URI er ikke registreret for appen.",
    "A PKCE S256 code challenge is required.": "Der kræves en PKCE S256-kodeudfordring.",
    "The login has expired or was already completed. Start again.": (
        "Login er udløbet eller allerede gennemført. Start forfra."
    ),
    "The authorisation code is invalid or expired.": "Login-koden er ugyldig eller udløbet.",
    "This account is disabled.": "Kontoen er lukket.",
    "No staff account matches this login.": "Der findes ingen medarbejderkonto til dette login.",
    "Wrong username, password or one-time code.": "Forkert brugernavn, adgangskode eller engangskode.",
    "No such session.": "Login-sessionen findes ikke.",
    # Things that do not exist (or may not be seen)
    "No such team.": "Teamet findes ikke.",
    "No such citizen.": "Borgeren findes ikke.",
    "No such theory of change.": "Forandringsteorien findes ikke.",
    "No such indicator.": "Indikatoren findes ikke.",
    "No such team or unit.": "Teamet eller enheden findes ikke.",
    "No such notification.": "Beskeden findes ikke.",
    "No such app install.": "App-installationen findes ikke.",
    "No such picture.": "Billedet findes ikke.",
    "Pictures come in the sizes thumbnail, medium and large.": (
        "Billeder findes i størrelserne thumbnail, medium og large."
    ),
    "No such grant.": "Adgangen findes ikke.",
    "No such invitation.": "Invitationen findes ikke.",
    "No such invitation, or it has expired.": "Invitationen findes ikke eller er udløbet.",
    "No such questionnaire.": "Spørgeskemaet findes ikke.",
    "No such request.": "Henvendelsen findes ikke.",
    "The request has no photo.": "Henvendelsen har intet billede.",
    "No such session log.": "Træningsregistreringen findes ikke.",
    "No such training plan.": "Træningsplanen findes ikke.",
    "No such programme template.": "Programskabelonen findes ikke.",
    "No such training alert.": "Træningsalarmen findes ikke.",
    "No such goal.": "Målet findes ikke.",
    "No such episode.": "Forløbet findes ikke.",
    "No such exercise.": "Øvelsen findes ikke.",
    "No such {}.": "{} findes ikke.",
    "No such device model.": "Enhedsmodellen findes ikke.",
    "No such credential.": "Adgangsnøglen findes ikke.",
    "No such citizen in the municipality.": "Borgeren findes ikke i kommunen.",
    # Who may do what
    "Only staff of the episode's team can act on its alerts.": (
        "Kun medarbejdere i forløbets team kan handle på dets alarmer."
    ),
    "Only staff of the episode's team can change it.": "Kun medarbejdere i forløbets team kan ændre det.",
    "Only staff of the episode's team can change its training plans.": (
        "Kun medarbejdere i forløbets team kan ændre dets træningsplaner."
    ),
    "The shared exercise library cannot be changed; make a copy for your municipality.": (
        "Det fælles øvelseskatalog kan ikke ændres; lav en kopi til jeres kommune."
    ),
    "The shared exercise library cannot be changed.": "Det fælles øvelseskatalog kan ikke ændres.",
    "Only care staff can add exercises.": "Kun plejepersonale kan tilføje øvelser.",
    "Only care staff can make programme templates.": "Kun plejepersonale kan lave programskabeloner.",
    "A device can post only its own readings.": "En enhed kan kun sende sine egne målinger.",
    # Courses, goals and ratings
    "Not one of the citizen's running episodes.": "Ikke et af borgerens igangværende forløb.",
    "Not a goal of the citizen's episode.": "Ikke et mål i borgerens forløb.",
    "the team has no active care relation to the citizen.": "teamet har ingen aktiv plejerelation til borgeren.",
    "goals are due after this date; move their due dates first.": (
        "der er mål med frist efter denne dato; flyt deres frister først."
    ),
    "An episode cannot go from {} to {}.": "Et forløb kan ikke gå fra {} til {}.",
    "a follow-up result from the code list (E1–E4) is required.": (
        "der kræves et opfølgningsresultat fra kodelisten (E1–E4)."
    ),
    "is given only when the episode is completed.": "angives kun, når forløbet afsluttes.",
    "Someone else changed the episode's contacts at the same time; reload.": (
        "En anden ændrede forløbets kontakter samtidig; hent det igen."
    ),
    "is already the contact person.": "er allerede tovholder.",
    "must not be in the past.": "må ikke ligge i fortiden.",
    "must be within the episode.": "skal ligge inden for forløbet.",
    "must be a member of the episode's care team.": "skal være medlem af forløbets team.",
    "must be on or after the start date.": "skal være på eller efter startdatoen.",
    "The episode has ended.": "Forløbet er afsluttet.",
    "must be one of your care teams.": "skal være et af dine teams.",
    "must be within the episode and not in the future.": "skal ligge inden for forløbet og ikke i fremtiden.",
    "The goal is cancelled.": "Målet er annulleret.",
    "give at least one of gas_score, function_level or the COPM scores.": (
        "angiv mindst én af gas_score, function_level eller COPM-scorerne."
    ),
    "This rating id is already used.": "Id'et for vurderingen er allerede brugt.",
    "is worse than the baseline level for an improvement goal.": (
        "er dårligere end udgangsniveauet for et forbedringsmål."
    ),
    "must equal the baseline level for a goal of keeping a level.": (
        "skal være lig udgangsniveauet for et mål om at fastholde et niveau."
    ),
    "is not a condition on the municipality's FSIII code list.": ("er ikke en tilstand på kommunens FSIII-kodeliste."),
    # Effect
    "from and to must span one calendar year, quarter or month (both days included).": (
        "from og to skal dække ét kalenderår, ét kvartal eller én måned (begge dage medregnet)."
    ),
    "must hold 1 to {} outcomes.": "skal have 1 til {} effektmål.",
    "is not a standard indicator.": "er ikke en standardindikator.",
    "is not a measure of {}.": "er ikke et mål for {}.",
    "at most one of condition, age_band and device_type can be given at a time.": (
        "højst én af condition, age_band og device_type kan angives ad gangen."
    ),
    # Notifications
    "is not a kind of notification.": "er ikke en slags besked.",
    "is listed twice.": "er angivet to gange.",
    "only reminders can be muted; turn push off instead.": ("kun påmindelser kan slås fra; slå push fra i stedet."),
    "is not a known time zone (e.g. Europe/Copenhagen).": "er ikke en kendt tidszone (fx Europe/Copenhagen).",
    "must differ from start.": "skal være forskellig fra start.",
    "Only a reminder can be snoozed.": "Kun en påmindelse kan udsættes.",
    "The reminder is already acknowledged.": "Påmindelsen er allerede kvitteret.",
    "This reminder has already reminded you again.": "Påmindelsen har allerede mindet dig om det igen.",
    # Duty
    "must include a time zone offset.": "skal have en tidszone (fx +01:00).",
    "must be in the future.": "skal ligge i fremtiden.",
    "must be at most {} hours ahead.": "må højst ligge {} timer ude i fremtiden.",
    # Exercises, pictures and templates
    "The file is empty.": "Filen er tom.",
    "The image is larger than {} MB.": "Billedet er større end {} MB.",
    "Only JPEG, PNG and WebP images are accepted.": "Kun JPEG-, PNG- og WebP-billeder kan bruges.",
    "The image has too many pixels.": "Billedet har for mange pixels.",
    "The file is not a readable image.": "Filen er ikke et billede, der kan læses.",
    "An exercise can have at most {} pictures.": "En øvelse kan højst have {} billeder.",
    "must be an https:// address.": "skal være en https://-adresse.",
    "must not contain a user name or password.": "må ikke indeholde brugernavn eller adgangskode.",
    "must not be empty.": "må ikke være tom.",
    "must hold at least one exercise.": "skal have mindst én øvelse.",
    "may hold at most {} exercises.": "må højst have {} øvelser.",
    "is not an exercise you can use.": "er ikke en øvelse, du kan bruge.",
    "is retired.": "er udgået.",
    "is already in the programme as items.{}.": "er allerede i programmet som items.{}.",
    # Dosage and progression
    "give at least one of sets, repetitions, hold_seconds or duration_seconds (load_kg only with one of them).": (
        "angiv mindst én af sets, repetitions, hold_seconds eller duration_seconds (load_kg kun sammen med en af dem)."
    ),
    "must not be below progression_effort_min.": "må ikke være under progression_effort_min.",
    "must be above progression_max_pain.": "skal være over progression_max_pain.",
    "needs a step above 0 for a dosage the exercise has.": "skal have et trin over 0 for en dosering, øvelsen har.",
    "must be a number.": "skal være et tal.",
    "must be between {} and {}.": "skal være mellem {} og {}.",
    "must have at most {} decimal place{}.": "må højst have {} decimaler.",
    # Plans and schedules
    "every goal must be a goal of the plan's episode that is not cancelled.": (
        "hvert mål skal være et ikke-annulleret mål i planens forløb."
    ),
    "is not an exercise of the library you can use.": "er ikke en øvelse i et katalog, du kan bruge.",
    "is not a programme template of your municipality.": "er ikke en programskabelon i din kommune.",
    "is required (the template has no schedule).": "skal udfyldes (skabelonen har ingen tidsplan).",
    "is required (the template has no start time).": "skal udfyldes (skabelonen har intet starttidspunkt).",
    "The training plan has ended.": "Træningsplanen er afsluttet.",
    "give at least one exercise.": "angiv mindst én øvelse.",
    "give one or more weekdays (MO to SU).": "angiv en eller flere ugedage (MO til SU).",
    "give at least one time of day.": "angiv mindst ét tidspunkt.",
    "at most {} exercises.": "højst {} øvelser.",
    "is not a valid RFC 5545 recurrence rule ({}).": "er ikke en gyldig RFC 5545-gentagelsesregel ({}).",
    "is required.": "skal udfyldes.",
    "must be one RRULE value, without DTSTART or other lines.": (
        "skal være én RRULE-værdi uden DTSTART eller andre linjer."
    ),
    "gives more than {} training times on a day.": "giver mere end {} træningstider på en dag.",
    "is not a known time zone.": "er ikke en kendt tidszone.",
    "must not be before start_date.": "må ikke ligge før start_date.",
    "gives no training time between start_date and end_date.": "giver ingen træningstid mellem start_date og end_date.",
    "'{}' is not of the form NAME=VALUE.": "'{}' har ikke formen NAVN=VÆRDI.",
    "{} is given twice.": "{} er angivet to gange.",
    "{} is not allowed: the plan's start_date and end_date decide the period.": (
        "{} kan ikke bruges: planens start_date og end_date bestemmer perioden."
    ),
    "BYSECOND is not allowed: training times are to the minute.": (
        "BYSECOND kan ikke bruges: træningstider angives i hele minutter."
    ),
    "{} is not a recurrence rule part this schedule supports.": (
        "{} er ikke en del af en gentagelsesregel, der kan bruges her."
    ),
    "FREQ is required.": "FREQ skal angives.",
    "FREQ={} is not allowed: at most daily; use BYHOUR for several times a day.": (
        "FREQ={} kan ikke bruges: højst dagligt; brug BYHOUR til flere gange om dagen."
    ),
    "FREQ={} is not a frequency.": "FREQ={} er ikke en frekvens.",
    "INTERVAL must be a whole number from 1 to {}.": "INTERVAL skal være et helt tal fra 1 til {}.",
    "BYMONTHDAY values must be 1 to 31 or -31 to -1.": "BYMONTHDAY skal være 1 til 31 eller -31 til -1.",
    "must not be before from.": "må ikke ligge før from.",
    "must be at most {} days before to (both included).": "må højst ligge {} dage før to (begge dage medregnet).",
    "must be one of {}.": "skal være en af {}.",
    "must be a staff id.": "skal være en medarbejders id.",
    # Sessions
    "is more than 10 minutes ahead of the server's clock.": "ligger mere end 10 minutter foran serverens ur.",
    "is more than 60 days ago.": "ligger mere end 60 dage tilbage.",
    "is not an exercise of this plan version.": "er ikke en øvelse i denne udgave af planen.",
    "is given twice.": "er angivet to gange.",
    "is not a slot of this training plan.": "er ikke en træningstid i denne træningsplan.",
    "is cancelled; log the session without a slot.": "er aflyst; registrér træningen uden træningstid.",
    "Another session already filled this slot.": "En anden træning har allerede udfyldt denne træningstid.",
    "is on a later day than performed_at; log the session without a slot.": (
        "ligger på en senere dag end performed_at; registrér træningen uden træningstid."
    ),
    "has nothing to train yet.": "har endnu intet at træne.",
    "is already used for another session.": "er allerede brugt til en anden træning.",
    "was not an active training plan when the session was done.": (
        "var ikke en aktiv træningsplan, da træningen blev udført."
    ),
    "cannot be empty.": "kan ikke være tom.",
    "cannot be changed.": "kan ikke ændres.",
    # Questionnaires
    "is answered twice": "er besvaret to gange",
    "is not an item of this questionnaire": "er ikke et spørgsmål i dette spørgeskema",
    "is not asked given the other answers": "stilles ikke ud fra de andre svar",
    "is required": "skal besvares",
    "makes the questionnaire's score too large to store": "gør spørgeskemaets score for stor til at gemme",
    "{}: a choice item needs two or more distinct options": (
        "{}: et valgspørgsmål skal have to eller flere forskellige svarmuligheder"
    ),
    "{}: only choice items have options": "{}: kun valgspørgsmål har svarmuligheder",
    "{}: a scale item needs min and max": "{}: et skalaspørgsmål skal have min og max",
    "{}: min is above max": "{}: min er over max",
    "{}: linkId used twice": "{}: linkId er brugt to gange",
    "{}: enableWhen must refer to an earlier item": "{}: enableWhen skal henvise til et tidligere spørgsmål",
    "{}: enableWhen on {} {}": "{}: enableWhen på {} {}",
    "scoring: {} is not a numeric item": "scoring: {} er ikke et talspørgsmål",
    "This questionnaire is already answered.": "Spørgeskemaet er allerede besvaret.",
    "This questionnaire is withdrawn.": "Spørgeskemaet er trukket tilbage.",
    "This questionnaire cannot be answered yet.": "Spørgeskemaet kan ikke besvares endnu.",
    "This response id is already used.": "Id'et for besvarelsen er allerede brugt.",
    "must be true or false": "skal være true eller false",
    "must be a non-empty text": "skal være en tekst, der ikke er tom",
    "must be at most {} characters": "må højst være {} tegn",
    "must be the code of one of the options": "skal være koden for en af svarmulighederne",
    "'{}' is not one of the options": "'{}' er ikke en af svarmulighederne",
    "must be a whole number": "skal være et helt tal",
    "must be a number": "skal være et tal",
    "must be between {} and {}": "skal være mellem {} og {}",
    "must be at least {}": "skal være mindst {}",
    "must be at most {}": "må højst være {}",
    "with 'exists' takes true or false": "med 'exists' tager true eller false",
    "with '{}' needs a numeric question and a number": "med '{}' kræver et talspørgsmål og et tal",
    "compares with an answer that does not fit a {} item": (
        "sammenligner med et svar, der ikke passer til et {}-spørgsmål"
    ),
    # Requests and the network
    "This request id is already used.": "Id'et for henvendelsen er allerede brugt.",
    "The request is closed.": "Henvendelsen er lukket.",
    "A request cannot go from {} to {}.": "En henvendelse kan ikke gå fra {} til {}.",
    "is not one of your running courses.": "er ikke et af dine igangværende forløb.",
    "you have no course or care team to write to.": "du har intet forløb eller team at skrive til.",
    "you cannot accept your own invitation.": "du kan ikke tage imod din egen invitation.",
    "Another invitation from this person was accepted at the same time; reload.": (
        "En anden invitation fra denne person blev taget imod samtidig; hent igen."
    ),
    "The grant is revoked.": "Adgangen er trukket tilbage.",
    "choose at least one thing the person may do.": "vælg mindst én ting, personen må.",
    "unknown scope {}.": "ukendt adgang {}.",
    "The alert is already resolved.": "Alarmen er allerede afsluttet.",
    # CPR numbers
    "A CPR number has ten digits, optionally as DDMMYY-XXXX.": "Et CPR-nummer har ti cifre, evt. som DDMMÅÅ-XXXX.",
    "The first six digits of a CPR number are a date.": "De første seks cifre i et CPR-nummer er en dato.",
    "The stored CPR number cannot be decrypted with the configured keys.": (
        "Det gemte CPR-nummer kan ikke dekrypteres med de opsatte nøgler."
    ),
    # Welfare technology
    "a heartbeat carries no value": "et livstegn har ingen værdi",
    "a battery reading is a number from 0 to 100 (percent)": "en batterimåling er et tal fra 0 til 100 (procent)",
    "a {} event is true, false or empty": "en {}-hændelse er true, false eller tom",
    "a dose reading is empty or names the dose (at most 100 characters)": (
        "en dosismåling er tom eller navngiver dosen (højst 100 tegn)"
    ),
    "a location is {lat, lon[, accuracy_m]} in degrees": "en position er {lat, lon[, accuracy_m]} i grader",
    "a custom reading is a number": "en anden måling er et tal",
    "This manufacturer's model is already in the catalogue.": "Producentens model er allerede i kataloget.",
    "This model is already in the catalogue.": "Modellen er allerede i kataloget.",
    "Unknown device model.": "Ukendt enhedsmodel.",
    "row {}: {}": "række {}: {}",
    "Unknown category {}.": "Ukendt kategori {}.",
    "The model number is missing.": "Modelnummeret mangler.",
    "Unknown device model: {} {}.": "Ukendt enhedsmodel: {} {}.",
    "The alert is already {}.": "Alarmen er allerede {}.",
    "No alert rule can be set for {} readings.": "Der kan ikke sættes en alarmregel for {}-målinger.",
    "A threshold rule needs at least one threshold.": "En tærskelregel skal have mindst én tærskel.",
    "Thresholds must rise: alert_low ≤ warning_low ≤ warning_high ≤ alert_high.": (
        "Tærsklerne skal stige: alert_low ≤ warning_low ≤ warning_high ≤ alert_high."
    ),
    "{} rules take no thresholds.": "{}-regler har ingen tærskler.",
    "The model sends no heartbeat, so it cannot miss one.": (
        "Modellen sender ingen livstegn og kan derfor ikke mangle et."
    ),
    "Only heartbeat rules count missing intervals.": "Kun livstegnsregler tæller manglende intervaller.",
    "The assignment is not waiting for installation.": "Tildelingen venter ikke på installation.",
    "The installation cannot lie in the future.": "Installationen kan ikke ligge i fremtiden.",
    "The device has already been returned.": "Enheden er allerede returneret.",
    "The return cannot lie in the future.": "Returneringen kan ikke ligge i fremtiden.",
    "The assignment has ended.": "Tildelingen er afsluttet.",
    "A surveillance-type device needs a recorded consent or legal basis before it is assigned.": (
        "En overvågende enhed kræver et registreret samtykke eller en lovhjemmel, før den tildeles."
    ),
    "A surveillance-type device needs a review date.": "En overvågende enhed kræver en revurderingsdato.",
    "The review date must lie in the future.": "Revurderingsdatoen skal ligge i fremtiden.",
    "The citizen is registered as deceased.": "Borgeren er registreret som død.",
    "The return cannot be planned before the installation.": "Returneringen kan ikke planlægges før installationen.",
    "Only a device in stock can be assigned; this one is {}.": "Kun en enhed på lager kan tildeles; denne er {}.",
    "The citizen has no address on record; give one.": "Borgeren har ingen registreret adresse; angiv en.",
    "The device already has an active assignment.": "Enheden er allerede tildelt.",
    "This field cannot be changed here.": "Feltet kan ikke ændres her.",
    "Only a battery-powered model has battery checks.": "Kun en batteridrevet model har batteritjek.",
    "The model's interval was removed.": "Modellens interval er fjernet.",
    "A device cannot go from {} to {}.": "En enhed kan ikke gå fra {} til {}.",
    "Unknown status {}.": "Ukendt status {}.",
    "Reserve, install and return a device through its assignment.": (
        "Reservér, installér og returnér en enhed gennem dens tildeling."
    ),
    "The device is still assigned to a citizen.": "Enheden er stadig tildelt en borger.",
    "A retired device gets no credentials.": "En kasseret enhed får ingen adgangsnøgle.",
    "Another device already has this value.": "En anden enhed har allerede denne værdi.",
    "A device of this model with this serial number exists.": (
        "Der findes allerede en enhed af denne model med dette serienummer."
    ),
    "This maintenance task is already done.": "Vedligeholdelsesopgaven er allerede udført.",
    # Shared field rules (pydantic validators)
    "must be a local time of day without an offset, e.g. 10:00": (
        "skal være et lokalt klokkeslæt uden tidszone, fx 10:00"
    ),
    "must be within {} years of today": "skal ligge inden for {} år fra i dag",
    "must be within {} years of now": "skal ligge inden for {} år fra nu",
}

# Pydantic's field errors by type, with the placeholders of their context.
DANISH_FIELD_ERRORS: dict[str, str] = {
    "missing": "skal udfyldes.",
    "extra_forbidden": "er ikke et felt her.",
    "string_type": "skal være en tekst.",
    "string_too_short": "skal være mindst {min_length} tegn.",
    "string_too_long": "må højst være {max_length} tegn.",
    "string_pattern_mismatch": "har ikke den rette form ({pattern}).",
    "string_unicode": "skal være gyldig tekst (Unicode).",
    "int_type": "skal være et helt tal.",
    "int_parsing": "skal være et helt tal.",
    "int_parsing_size": "er et for stort tal.",
    "int_from_float": "skal være et helt tal.",
    "float_type": "skal være et tal.",
    "float_parsing": "skal være et tal.",
    "finite_number": "skal være et endeligt tal.",
    "decimal_type": "skal være et tal.",
    "decimal_parsing": "skal være et tal.",
    "decimal_max_digits": "må højst have {max_digits} cifre.",
    "decimal_max_places": "må højst have {decimal_places} decimaler.",
    "decimal_whole_digits": "må højst have {whole_digits} cifre før kommaet.",
    "bool_type": "skal være true eller false.",
    "bool_parsing": "skal være true eller false.",
    "greater_than": "skal være større end {gt}.",
    "greater_than_equal": "skal være mindst {ge}.",
    "less_than": "skal være mindre end {lt}.",
    "less_than_equal": "må højst være {le}.",
    "multiple_of": "skal gå op i {multiple_of}.",
    "too_short": "skal have mindst {min_length} elementer.",
    "too_long": "må højst have {max_length} elementer.",
    "list_type": "skal være en liste.",
    "tuple_type": "skal være en liste.",
    "set_type": "skal være en liste uden gentagelser.",
    "dict_type": "skal være et objekt.",
    "model_type": "skal være et objekt.",
    "model_attributes_type": "skal være et objekt.",
    "dataclass_type": "skal være et objekt.",
    "literal_error": "skal være en af: {expected}.",
    "enum": "skal være en af: {expected}.",
    "uuid_type": "skal være et UUID.",
    "uuid_parsing": "skal være et UUID.",
    "uuid_version": "skal være et UUID af version {expected_version}.",
    "date_type": "skal være en dato (ÅÅÅÅ-MM-DD).",
    "date_parsing": "skal være en dato (ÅÅÅÅ-MM-DD).",
    "date_from_datetime_parsing": "skal være en dato (ÅÅÅÅ-MM-DD).",
    "date_from_datetime_inexact": "skal være en dato uden klokkeslæt.",
    "date_past": "skal ligge i fortiden.",
    "date_future": "skal ligge i fremtiden.",
    "datetime_type": "skal være et tidspunkt (ISO 8601 med tidszone).",
    "datetime_parsing": "skal være et tidspunkt (ISO 8601 med tidszone).",
    "datetime_from_date_parsing": "skal være et tidspunkt (ISO 8601 med tidszone).",
    "datetime_object_invalid": "skal være et gyldigt tidspunkt.",
    "datetime_past": "skal ligge i fortiden.",
    "datetime_future": "skal ligge i fremtiden.",
    "timezone_aware": "skal have en tidszone (fx +01:00).",
    "timezone_naive": "må ikke have en tidszone.",
    "time_type": "skal være et klokkeslæt (TT:MM).",
    "time_parsing": "skal være et klokkeslæt (TT:MM).",
    "time_delta_type": "skal være en varighed.",
    "time_delta_parsing": "skal være en varighed.",
    "local_time": "skal være et lokalt klokkeslæt uden tidszone, fx 10:00.",
    "url_type": "skal være en adresse (URL).",
    "url_parsing": "skal være en gyldig adresse (URL).",
    "url_syntax_violation": "skal være en gyldig adresse (URL).",
    "url_too_long": "er en for lang adresse (højst {max_length} tegn).",
    "url_scheme": "skal være en adresse af typen {expected_schemes}.",
    "json_invalid": "er ikke gyldig JSON.",
    "json_type": "skal være JSON.",
    "bytes_type": "skal være data.",
    "bytes_too_short": "skal være mindst {min_length} byte.",
    "bytes_too_long": "må højst være {max_length} byte.",
    "none_required": "skal være tom (null).",
    "union_tag_invalid": "har en ukendt type {tag}; brug en af: {expected_tags}.",
    "union_tag_not_found": "mangler feltet {discriminator}.",
    "is_instance_of": "har en forkert type.",
    "frozen_field": "kan ikke ændres.",
    "assertion_error": "er ugyldig.",
}
FIELD_ERROR_FALLBACK = DANISH["invalid"]
_VALUE_ERROR_PREFIXES = ("Value error, ", "Assertion failed, ")


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """The catalogue's templates as patterns, longest first, so that the most specific one matches."""
    found = [(english, danish_text) for english, danish_text in DANISH_DETAILS.items() if "{}" in english]
    found.sort(key=lambda pair: len(pair[0]), reverse=True)
    return [
        (re.compile("^" + "(.+?)".join(re.escape(part) for part in english.split("{}")) + "$", re.DOTALL), danish_text)
        for english, danish_text in found
    ]


def danish_message(message: str) -> str | None:
    """The Danish of an English message from the catalogue (its values carried over), or None."""
    for prefix in _VALUE_ERROR_PREFIXES:
        message = message.removeprefix(prefix)
    exact = DANISH_DETAILS.get(message)
    if exact is not None:
        return exact
    for pattern, danish_text in _templates():
        matched = pattern.match(message)
        if matched:
            first, *rest = danish_text.split("{}")
            values = matched.groups()
            return first + "".join((values[i] if i < len(values) else "") + part for i, part in enumerate(rest))
    return None


def detail_for(detail: str, *, code: str, status: int) -> str:
    """A problem's detail in the request's language. A detail of the form ``field: message`` (a field error)
    keeps its field name; a Danish detail the catalogue lacks is the code's own Danish text."""
    if language() == "en":
        return detail
    translated = danish_message(detail)
    if translated is not None:
        return translated
    field, separator, message = detail.partition(": ")
    if separator:
        translated = danish_message(message)
        if translated is not None:
            return f"{field}: {translated}"
    return danish(code, status)


def message_for(message: str) -> str:
    """A field error's message (English in the source) in the request's language."""
    if language() == "en":
        return message
    return danish_message(message) or FIELD_ERROR_FALLBACK


def _format(template: str, context: Mapping[str, Any]) -> str:
    values = {
        key: (", ".join(map(str, value)) if isinstance(value, list | tuple) else value)
        for key, value in context.items()
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return re.sub(r"\s*\(?\{[a-z_]+\}\)?", "", template)


def field_error_message(error: Mapping[str, Any]) -> str:
    """A pydantic field error (``type``, ``msg``, ``ctx``) in the request's language."""
    english_message = str(error.get("msg") or "Invalid value.")
    if language() == "en":
        return english_message
    error_type = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if error_type in ("value_error", "assertion_error") and "error" in context:
        return danish_message(str(context["error"])) or FIELD_ERROR_FALLBACK
    template = DANISH_FIELD_ERRORS.get(error_type)
    if template is None:
        return danish_message(english_message) or FIELD_ERROR_FALLBACK
    return _format(template, context)
