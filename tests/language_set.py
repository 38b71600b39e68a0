"""A labelled set for FT305 (reply-language-mismatch), generated with a fixed seed.

Written by the ftkit team for this purpose (not public data): prompts and replies in eleven
languages on everyday topics, code answers, technical Chinese mixed with English terms,
translation requests, system prompts that name the reply's language, short replies, and replies
that are only numbers or links. ``labelled_records()`` pairs them into chat records, each with
the truth: ``True`` when the final reply is in another language than the user message it answers
and nothing asked for that language.

``tests/test_language.py`` asserts the precision on it; ``benchmarks/bench_language.py`` prints
precision, recall and speed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SEED = 305

PROMPTS: dict[str, list[str]] = {
    "en": [
        "Can you explain why the sky looks blue during the day but red at sunset?",
        "I have a job interview next week for a marketing position. How should I prepare?",
        "How does compound interest work, and why do people say it is so powerful?",
        "What advice would you give someone who wants to start running regularly?",
        "What is the best way to store fresh herbs so that they last longer in the fridge?",
        "Please summarize the causes of the French Revolution in a few sentences.",
        "My tomato plants have yellow leaves at the bottom. What could be wrong with them?",
        "What should I consider before adopting a dog if I live in a small apartment?",
        "How can I improve my sleep if I often wake up in the middle of the night?",
        "Give me three ideas for a birthday party for a seven-year-old who loves dinosaurs.",
    ],
    "zh": [
        "为什么白天的天空是蓝色的，而日落时却变成了红色？",
        "下周我要参加一个市场营销岗位的面试，应该怎么准备？",
        "复利是怎么计算的？为什么大家都说复利的力量很大？",
        "想开始坚持跑步的话，你有什么建议？",
        "新鲜的香菜和葱怎么保存才能在冰箱里放得更久？",
        "请用几句话概括一下法国大革命爆发的原因。",
        "我家的番茄苗下面的叶子发黄了，可能是什么原因？",
        "住在小公寓里的话，养狗之前需要考虑哪些问题？",
        "晚上总是半夜醒来，有什么办法可以改善睡眠质量？",
        "给一个喜欢恐龙的七岁孩子办生日派对，有什么好主意？",
        "今天",
        "你好",
    ],
    "fr": [
        "Pourquoi le ciel est-il bleu pendant la journée et rouge au coucher du soleil ?",
        "J'ai un entretien d'embauche la semaine prochaine pour un poste en marketing. Comment dois-je me préparer ?",
        "Peux-tu m'expliquer comment fonctionnent les intérêts composés et pourquoi on dit qu'ils sont si puissants ?",
        "Quels conseils donnerais-tu à quelqu'un qui veut commencer à courir régulièrement ?",
        "Comment conserver les herbes fraîches plus longtemps dans le réfrigérateur ?",
        "Quelles sont les principales causes de la Révolution française ?",
        "Les feuilles du bas de mes tomates jaunissent. Qu'est-ce qui peut causer ce problème ?",
        "Que faut-il savoir avant d'adopter un chien quand on vit dans un petit appartement ?",
    ],
    "de": [
        "Warum ist der Himmel tagsüber blau und bei Sonnenuntergang rot?",
        "Ich habe nächste Woche ein Vorstellungsgespräch für eine Stelle im Marketing. Wie sollte ich mich vorbereiten?",
        "Kannst du mir erklären, wie der Zinseszins funktioniert und warum er so wirkungsvoll ist?",
        "Welche Tipps hast du für jemanden, der regelmäßig mit dem Laufen anfangen möchte?",
        "Wie bewahre ich frische Kräuter im Kühlschrank am besten auf, damit sie länger halten?",
        "Was muss ich beachten, bevor ich in einer kleinen Wohnung einen Hund aufnehme?",
        "Die unteren Blätter meiner Tomatenpflanzen werden gelb. Woran kann das liegen?",
        "Was waren die wichtigsten Ursachen der Französischen Revolution?",
    ],
    "es": [
        "¿Por qué el cielo es azul durante el día y rojo al atardecer?",
        "La próxima semana tengo una entrevista de trabajo para un puesto de marketing. ¿Cómo debería prepararme?",
        "¿Me puedes explicar cómo funciona el interés compuesto y por qué dicen que es tan poderoso?",
        "¿Qué consejos le darías a alguien que quiere empezar a correr con regularidad?",
        "¿Cuál es la mejor manera de conservar las hierbas frescas en la nevera para que duren más?",
        "¿Qué debo tener en cuenta antes de adoptar un perro si vivo en un piso pequeño?",
        "Las hojas de abajo de mis tomateras se están poniendo amarillas. ¿Qué puede estar pasando?",
    ],
    "pt": [
        "Por que o céu é azul durante o dia e vermelho no pôr do sol?",
        "Tenho uma entrevista de emprego na próxima semana para uma vaga de marketing. Como devo me preparar?",
        "Quais dicas você daria para alguém que quer começar a correr regularmente?",
        "O que devo considerar antes de adotar um cachorro se moro em um apartamento pequeno?",
    ],
    "it": [
        "Perché il cielo è azzurro durante il giorno e rosso al tramonto?",
        "La prossima settimana ho un colloquio di lavoro per una posizione nel marketing. Come dovrei prepararmi?",
        "Quali consigli daresti a chi vuole iniziare a correre con regolarità?",
        "Come posso conservare più a lungo le erbe aromatiche fresche in frigorifero?",
    ],
    "ru": [
        "Почему днём небо голубое, а на закате становится красным?",
        "На следующей неделе у меня собеседование на должность маркетолога. Как мне лучше подготовиться?",
        "Объясни, пожалуйста, как работают сложные проценты и почему их называют такими мощными.",
        "Что нужно учесть, прежде чем заводить собаку, если я живу в маленькой квартире?",
        "Нижние листья у моих помидоров желтеют. В чём может быть причина?",
    ],
    "ja": [
        "昼間の空はなぜ青く、夕焼けの時には赤くなるのですか？",
        "来週、マーケティング職の面接があります。どのように準備すればいいでしょうか？",
        "複利の仕組みと、なぜ複利の力が大きいと言われるのかを説明してください。",
        "狭いアパートで犬を飼う前に、どんなことを考えておくべきですか？",
        "夜中に何度も目が覚めてしまいます。睡眠の質を上げるにはどうしたらいいですか？",
        "東京",
    ],
    "ko": [
        "낮에는 하늘이 파란데 해 질 녘에는 왜 빨갛게 보이나요?",
        "다음 주에 마케팅 직무 면접이 있어요. 어떻게 준비하면 좋을까요?",
        "복리가 어떻게 작동하는지, 그리고 왜 복리의 힘이 크다고 하는지 설명해 주세요.",
        "작은 원룸에 살면서 강아지를 입양하기 전에 무엇을 고려해야 하나요?",
    ],
    "ar": [
        "لماذا تكون السماء زرقاء في النهار وحمراء عند غروب الشمس؟",
        "لدي مقابلة عمل الأسبوع القادم لوظيفة في التسويق. كيف يمكنني الاستعداد لها؟",
        "ما الذي يجب أن أفكر فيه قبل تبني كلب إذا كنت أعيش في شقة صغيرة؟",
    ],
}

REPLIES: dict[str, list[str]] = {
    "en": [
        "Sunlight contains all colours, but the air scatters short blue wavelengths much more strongly than long red ones. "
        "During the day that scattered blue light reaches us from every direction. At sunset the light travels through far "
        "more air, so most of the blue is scattered away and the remaining reds and oranges dominate.",
        "Start by researching the company, its products and its recent campaigns. Prepare two or three stories that show how "
        "you solved a problem, measured the results and worked with a team. Practise answering common questions out loud, and "
        "bring a few thoughtful questions of your own about the role.",
        "With compound interest you earn interest not only on the money you saved but also on the interest it has already "
        "earned. Over many years the growth speeds up, because each year's gain is added to the base for the next year. That "
        "is why starting early matters more than saving large amounts later.",
        "Start slowly, with three runs of twenty minutes a week in which you alternate walking and running. Increase the time "
        "gradually, by no more than ten percent a week, and buy a good pair of shoes. Consistency matters most: running slowly "
        "and often beats running fast and rarely.",
        "Treat soft herbs like parsley and coriander as flowers: trim the stems, stand them in a glass of water and cover them "
        "loosely with a bag. Hardy herbs such as rosemary and thyme keep best wrapped in a slightly damp paper towel.",
        "The revolution grew out of a deep financial crisis, heavy taxes on ordinary people and the privileges of the nobility "
        "and clergy. Poor harvests raised the price of bread, while new ideas about liberty and equality spread quickly.",
        "Yellowing lower leaves are often a sign of a nitrogen shortage or of watering too much. It can also be early blight, "
        "a fungus that starts with brown spots on the oldest leaves. Remove the affected leaves and water at the base.",
        "In a small flat, choose a calm dog that does not bark much, and plan time every day for long walks, because exercise "
        "and company matter more than square metres. Check with your landlord first that pets are allowed.",
        "Hello! How can I help you today? Tell me what you would like to talk about.",
    ],
    "zh": [
        "阳光里包含各种颜色的光，但空气对波长较短的蓝光散射得比红光强得多。白天，被散射的蓝光从四面八方进入我们的眼睛，"
        "所以天空看起来是蓝色的。日落时阳光要穿过更厚的大气层，大部分蓝光在途中被散射掉了，剩下的红光和橙光就显得格外明显。",
        "首先要了解这家公司的产品、目标客户和最近的推广活动。准备两三个具体的例子，说明你是如何发现问题、制定方案并用数据"
        "衡量结果的。面试前可以练习回答常见问题，最后别忘了准备几个关于岗位本身的问题。",
        "复利就是不仅本金会产生利息，之前获得的利息也会继续产生利息。时间越长，增长的速度就越快，因为每一年的收益都会加入"
        "下一年的本金。所以越早开始储蓄和投资，效果往往越好。",
        "刚开始不要跑得太快，可以每周跑三次，每次二十分钟，跑步和快走交替进行。之后再慢慢增加时间，每周增加不超过一成，"
        "再买一双合适的跑鞋。最重要的是坚持，慢慢跑、经常跑，比偶尔跑得很快更有用。",
        "香菜这类叶子比较嫩的香草，可以先把根部剪掉一点，插在装了清水的杯子里，再用保鲜袋松松地罩住放进冰箱。葱可以洗净"
        "晾干后切段，装进密封盒里冷冻，用的时候直接取出来就行。",
        "法国大革命的爆发有多方面的原因：国家财政濒临破产，普通百姓承担着沉重的赋税，而贵族和教士却享有种种特权。连年歉收"
        "使面包价格飞涨，启蒙思想又让自由和平等的观念深入人心。",
        "下部叶片发黄通常是缺氮或者浇水过多造成的，也可能是早疫病，这种真菌病害一般先从老叶上出现褐色斑点开始。建议摘掉"
        "发黄的叶子，早上在根部浇水，同时施一些均衡的复合肥。",
        "可以先固定作息时间，每天尽量在同一时间上床和起床。睡前一小时不要看手机，卧室保持安静、黑暗和凉爽。下午以后少喝"
        "咖啡和浓茶，晚饭也不要吃得太饱。",
        "今朝有酒今朝醉，明日无酒，醉也无妨。",
    ],
    "fr": [
        "La lumière du soleil contient toutes les couleurs, mais l'air diffuse beaucoup plus les courtes longueurs d'onde bleues "
        "que les rouges. Pendant la journée, cette lumière bleue diffusée nous arrive de toutes les directions. Au coucher du "
        "soleil, la lumière traverse une couche d'air bien plus épaisse, et les tons rouges et orangés dominent.",
        "Commence par te renseigner sur l'entreprise, ses produits et ses dernières campagnes. Prépare deux ou trois exemples "
        "concrets qui montrent comment tu as résolu un problème et mesuré les résultats. Entraîne-toi à répondre à voix haute "
        "aux questions classiques.",
        "Avec les intérêts composés, tu gagnes des intérêts non seulement sur ton capital de départ, mais aussi sur les intérêts "
        "déjà accumulés. Au fil des années, la croissance s'accélère parce que chaque gain s'ajoute à la base de l'année suivante.",
        "Commence doucement, avec trois sorties de vingt minutes par semaine en alternant la marche et la course. Augmente la "
        "durée petit à petit et investis dans une bonne paire de chaussures. Le plus important est la régularité.",
        "Traite les herbes tendres comme le persil ou la coriandre comme un bouquet de fleurs : coupe le bout des tiges, place-les "
        "dans un verre d'eau et couvre-les d'un sac. Le romarin et le thym se gardent mieux dans un papier absorbant humide.",
        "La Révolution est née d'une grave crise financière, d'impôts très lourds pour le peuple et des privilèges de la noblesse "
        "et du clergé. De mauvaises récoltes ont fait flamber le prix du pain, tandis que les idées des Lumières se répandaient.",
    ],
    "de": [
        "Sonnenlicht enthält alle Farben, aber die Luft streut das kurzwellige blaue Licht viel stärker als das langwellige rote. "
        "Tagsüber erreicht uns dieses gestreute Blau aus allen Richtungen. Bei Sonnenuntergang legt das Licht einen viel längeren "
        "Weg durch die Atmosphäre zurück, sodass Rot- und Orangetöne überwiegen.",
        "Informiere dich zuerst gründlich über das Unternehmen, seine Produkte und seine aktuellen Kampagnen. Bereite zwei oder "
        "drei konkrete Beispiele vor, die zeigen, wie du ein Problem gelöst und Ergebnisse gemessen hast.",
        "Beim Zinseszins bekommst du nicht nur Zinsen auf dein ursprüngliches Kapital, sondern auch auf die bereits angesammelten "
        "Zinsen. Mit den Jahren beschleunigt sich das Wachstum, weil jeder Gewinn zur Grundlage für das nächste Jahr wird.",
        "Fang langsam an, mit drei Einheiten von zwanzig Minuten pro Woche, in denen du Gehen und Laufen abwechselst. Steigere "
        "die Dauer nach und nach und kaufe dir gute Laufschuhe. Am wichtigsten ist die Regelmäßigkeit.",
        "Weiche Kräuter wie Petersilie oder Koriander behandelst du am besten wie einen Blumenstrauß: Schneide die Stiele an, "
        "stelle sie in ein Glas Wasser und decke sie locker mit einer Tüte ab.",
        "In einer kleinen Wohnung solltest du einen ruhigen Hund wählen, der nicht zu groß ist und wenig bellt. Plane jeden Tag "
        "genug Zeit für lange Spaziergänge ein, denn Bewegung ist wichtiger als die Quadratmeter.",
    ],
    "es": [
        "La luz del sol contiene todos los colores, pero el aire dispersa mucho más las longitudes de onda cortas, las azules, "
        "que las largas, las rojas. Durante el día esa luz azul dispersada nos llega desde todas las direcciones. Al atardecer "
        "la luz atraviesa mucha más atmósfera y predominan los tonos rojos y anaranjados.",
        "Empieza por informarte bien sobre la empresa, sus productos y sus campañas más recientes. Prepara dos o tres ejemplos "
        "concretos que muestren cómo resolviste un problema y cómo mediste los resultados.",
        "Con el interés compuesto no solo ganas intereses sobre el dinero que ahorraste, sino también sobre los intereses que ya "
        "has acumulado. Con los años el crecimiento se acelera, porque cada ganancia se suma a la base del año siguiente.",
        "Empieza poco a poco, con tres salidas de veinte minutos a la semana alternando caminar y correr. Aumenta la duración de "
        "forma gradual y compra unas buenas zapatillas. Lo más importante es la constancia.",
        "Si vives en un piso pequeño, elige un perro tranquilo, de tamaño mediano o pequeño y que no ladre demasiado. Reserva "
        "tiempo cada día para paseos largos, porque el ejercicio importa más que los metros cuadrados.",
    ],
    "pt": [
        "A luz do sol contém todas as cores, mas o ar espalha muito mais os comprimentos de onda curtos, azuis, do que os longos, "
        "vermelhos. Durante o dia, essa luz azul espalhada chega até nós de todas as direções. No pôr do sol, os tons vermelhos "
        "e alaranjados predominam.",
        "Comece pesquisando bem a empresa, os seus produtos e as campanhas mais recentes. Prepare dois ou três exemplos concretos "
        "que mostrem como você resolveu um problema e mediu os resultados.",
        "Comece devagar, com três saídas de vinte minutos por semana, alternando caminhada e corrida. Aumente o tempo aos poucos "
        "e invista em um bom tênis. O mais importante é a regularidade.",
        "Em um apartamento pequeno, prefira um cachorro calmo, de porte pequeno ou médio e que não late muito. Reserve tempo "
        "todos os dias para passeios longos, porque exercício e companhia importam mais do que o espaço.",
    ],
    "it": [
        "La luce del sole contiene tutti i colori, ma l'aria diffonde molto di più le lunghezze d'onda corte, quelle blu, "
        "rispetto a quelle lunghe e rosse. Durante il giorno questa luce blu diffusa ci arriva da tutte le direzioni.",
        "Inizia informandoti bene sull'azienda, sui suoi prodotti e sulle sue campagne più recenti. Prepara due o tre esempi "
        "concreti che mostrino come hai risolto un problema e misurato i risultati.",
        "Comincia con calma, con tre uscite di venti minuti alla settimana alternando camminata e corsa. Aumenta la durata "
        "gradualmente e compra un buon paio di scarpe. La cosa più importante è la costanza.",
        "Le erbe delicate come il prezzemolo e il basilico vanno trattate come un mazzo di fiori: taglia la punta dei gambi, "
        "mettile in un bicchiere d'acqua e coprile con un sacchetto.",
    ],
    "ru": [
        "Солнечный свет содержит все цвета, но воздух рассеивает короткие синие волны гораздо сильнее, чем длинные красные. "
        "Днём этот рассеянный синий свет приходит к нам со всех сторон, поэтому небо кажется голубым.",
        "Сначала изучите компанию, её продукты и последние рекламные кампании. Подготовьте два-три конкретных примера того, как "
        "вы решили проблему и измерили результат.",
        "При сложных процентах доход начисляется не только на первоначальную сумму, но и на уже накопленные проценты. С годами "
        "рост ускоряется, потому что каждая прибыль становится частью базы для следующего года.",
        "Для маленькой квартиры лучше выбрать спокойную собаку небольшого или среднего размера, которая редко лает. Каждый день "
        "выделяйте время на долгие прогулки.",
    ],
    "ja": [
        "太陽の光にはすべての色が含まれていますが、空気は波長の短い青い光を赤い光よりもずっと強く散乱させます。昼間はその"
        "散乱した青い光が四方八方から目に届くので、空が青く見えます。",
        "まず、会社の製品や最近のキャンペーンについてよく調べておきましょう。問題をどのように解決し、結果をどう測ったかを"
        "示す具体的なエピソードを二つか三つ用意しておくと効果的です。",
        "複利とは、元本だけでなく、それまでに得た利息にもさらに利息がつく仕組みのことです。年数がたつほど増え方が加速する"
        "のは、毎年の利益が翌年の元本に加わるからです。",
        "狭い部屋で飼うなら、あまり吠えない穏やかな性格の小型犬を選ぶのがおすすめです。広さよりも毎日の散歩や遊びの時間の"
        "ほうが大切です。",
        "東京は日本の首都で、世界でも有数の大都市です。",
    ],
    "ko": [
        "햇빛에는 모든 색의 빛이 섞여 있지만, 공기는 파장이 짧은 파란빛을 붉은빛보다 훨씬 강하게 산란시킵니다. 낮에는 이렇게 "
        "산란된 파란빛이 사방에서 눈에 들어오기 때문에 하늘이 파랗게 보입니다.",
        "먼저 회사의 제품과 최근 캠페인에 대해 충분히 조사해 두세요. 문제를 어떻게 해결했고 결과를 어떻게 측정했는지 보여 "
        "주는 구체적인 사례를 두세 가지 준비하면 좋습니다.",
        "복리는 원금뿐 아니라 이미 받은 이자에도 다시 이자가 붙는 방식입니다. 해마다 얻은 수익이 다음 해의 원금에 더해지기 "
        "때문에 시간이 지날수록 증가 속도가 빨라집니다.",
        "작은 집이라면 많이 짖지 않고 성격이 차분한 소형견을 고르는 것이 좋습니다. 공간보다 매일의 산책과 놀이 시간이 더 "
        "중요합니다.",
    ],
    "ar": [
        "يحتوي ضوء الشمس على جميع الألوان، لكن الهواء يشتت الأطوال الموجية القصيرة الزرقاء أكثر بكثير من الأطوال الطويلة "
        "الحمراء. في النهار يصل إلينا هذا الضوء الأزرق المشتت من كل الاتجاهات، لذلك تبدو السماء زرقاء.",
        "ابدأ بالتعرف جيدا على الشركة ومنتجاتها وحملاتها الأخيرة. جهز مثالين أو ثلاثة أمثلة واضحة توضح كيف حللت مشكلة وقست "
        "النتائج.",
        "في الشقة الصغيرة من الأفضل اختيار كلب هادئ صغير أو متوسط الحجم لا ينبح كثيرا. خصص وقتا كل يوم للمشي الطويل، لأن "
        "الحركة والرفقة أهم من المساحة.",
    ],
}

# --- code: a prompt asking for code, a fenced block, and a sentence around it in one language --------------------------

CODE_PROMPTS: dict[str, list[str]] = {
    "en": [
        "Write a Python function that checks whether a string is a palindrome.",
        "Show me how to remove duplicate items from an array in JavaScript.",
        "Write a SQL query that finds the highest-paid employee in each department.",
    ],
    "zh": [
        "用 Python 写一个函数，判断一个字符串是不是回文。",
        "请帮我写一段 JavaScript 代码，把数组里的重复元素去掉。",
        "写一个 SQL 查询，找出每个部门工资最高的员工。",
    ],
    "fr": [
        "Écris une fonction Python qui vérifie si une chaîne de caractères est un palindrome.",
        "Montre-moi comment supprimer les doublons d'un tableau en JavaScript.",
        "Écris une requête SQL qui trouve l'employé le mieux payé de chaque service.",
    ],
}
CODE_BLOCKS = [
    "```python\ndef is_palindrome(text: str) -> bool:\n    # keep letters and digits only, ignore case\n"
    "    cleaned = [c.lower() for c in text if c.isalnum()]\n    return cleaned == cleaned[::-1]\n```",
    "```javascript\n// a Set keeps each value once\nconst unique = (items) => [...new Set(items)];\n"
    "console.log(unique([1, 2, 2, 3, 3, 3]));\n```",
    "```sql\nSELECT department_id, name, salary\nFROM (\n  SELECT e.*, RANK() OVER (PARTITION BY department_id ORDER BY salary DESC) AS r\n"
    "  FROM employees e\n) ranked\nWHERE r = 1;\n```",
]
CODE_TEXT: dict[str, list[tuple[str, str]]] = {  # (before the block, after it), one per block
    "en": [
        ("This function drops punctuation and spaces, lowercases the rest and compares the text with its reverse:",
         "For example, is_palindrome('A man, a plan, a canal: Panama') returns True."),
        ("The simplest way is to build a Set from the array, because a set never holds the same value twice:",
         "The order of the first occurrences is kept, which is usually what you want."),
        ("You can rank the salaries inside each department with a window function and keep the first row:",
         "If two people share the top salary, both of them are returned."),
    ],
    "zh": [
        ("下面这个函数先去掉标点和空格并统一转成小写，然后把字符串和它的反转进行比较：",
         "例如传入一句带标点的英文回文，函数也会返回真。"),
        ("最简单的办法是用数组构造一个集合，因为集合里的元素不会重复：",
         "这样做会保留每个元素第一次出现的顺序，通常正是我们想要的结果。"),
        ("可以用窗口函数在每个部门内部按工资排名，再取排名第一的记录：",
         "如果有两个人的工资并列最高，两个人都会被返回。"),
    ],
    "fr": [
        ("Cette fonction retire la ponctuation et les espaces, met le reste en minuscules puis compare le texte avec son inverse :",
         "Par exemple, une phrase palindrome avec de la ponctuation renvoie bien vrai."),
        ("Le plus simple est de construire un ensemble à partir du tableau, car un ensemble ne contient jamais deux fois la même valeur :",
         "L'ordre des premières apparitions est conservé, ce qui est généralement ce que l'on veut."),
        ("On peut classer les salaires dans chaque service avec une fonction de fenêtrage et garder la première ligne :",
         "Si deux personnes ont le même salaire le plus élevé, elles sont renvoyées toutes les deux."),
    ],
}

# --- technical Chinese with English terms, and the same answers in English --------------------------------------------

TECH_PROMPTS_ZH = [
    "如何在 Python 中用 asyncio.gather 并发地发送多个 HTTP 请求？",
    "Docker 容器里的 MySQL 数据怎么做持久化？用 volume 还是 bind mount 更好？",
    "React 的 useEffect 为什么会执行两次？在 StrictMode 下是正常的吗？",
    "Kubernetes 的 Deployment 和 StatefulSet 有什么区别？",
    "训练 LoRA 的时候 learning rate 和 batch size 应该怎么设置？",
    "git rebase 和 git merge 有什么区别，团队协作时应该用哪个？",
]
TECH_REPLIES_ZH = [
    "可以把每个请求写成一个 async 函数，再用 asyncio.gather 把它们一起调度。配合 aiohttp 的 ClientSession 复用连接，效率会高"
    "很多。注意要控制并发数量，可以用 asyncio.Semaphore 做限流，避免把对方的服务器压垮。",
    "推荐使用 named volume，由 Docker 统一管理数据目录，迁移和备份都比较方便。如果你需要在宿主机上直接查看或编辑文件，可以用 "
    "bind mount，但要注意权限和路径的问题。无论哪种方式，都要把 MySQL 的 /var/lib/mysql 目录挂载出来。",
    "在开发环境下开启 StrictMode 时，React 会故意把组件挂载、卸载再挂载一次，所以 useEffect 看起来执行了两次。这是为了帮你"
    "发现没有正确清理的副作用，生产环境中不会出现这种情况。只要在 effect 里返回清理函数就可以了。",
    "Deployment 适合无状态的服务，Pod 之间可以随意替换；StatefulSet 则为每个 Pod 提供固定的名字和独立的存储卷，适合数据库、"
    "消息队列这类有状态的应用。简单来说，需要稳定的网络标识和持久化数据时就用 StatefulSet。",
    "一般可以先从 learning rate 为 1e-4、batch size 为 8 开始尝试。如果 loss 下降很慢，可以适当调大学习率；如果 loss 波动很大"
    "或者出现发散，就把学习率调小一些。数据量比较少的时候，epoch 不要设得太多，以免过拟合。",
    "merge 会保留完整的分支历史，生成一个合并提交；rebase 则把你的提交重新应用到目标分支的最新位置上，让历史变成一条直线。"
    "团队协作时，公共分支上最好用 merge，自己的本地分支在推送之前可以用 rebase 整理提交。",
]
TECH_REPLIES_EN = [
    "Write each request as an async function and schedule them together with asyncio.gather. Reusing one aiohttp "
    "ClientSession keeps the connections open, and an asyncio.Semaphore limits how many requests run at the same time.",
    "Use a named volume: Docker manages the data directory for you, and moving or backing it up is simple. A bind mount is "
    "handy when you want to edit the files on the host, but watch out for permissions. Either way, mount /var/lib/mysql.",
    "In development, StrictMode mounts, unmounts and mounts every component again on purpose, so the effect seems to run "
    "twice. It helps you find effects that do not clean up after themselves, and it does not happen in production.",
    "A Deployment suits stateless services whose pods can replace each other freely. A StatefulSet gives every pod a stable "
    "name and its own storage volume, which is what databases and message queues need.",
    "A learning rate of 1e-4 and a batch size of 8 are a good place to start. If the loss falls slowly, raise the learning "
    "rate a little; if it jumps around or diverges, lower it. With a small dataset, keep the number of epochs low.",
    "A merge keeps the whole history of both branches and adds a merge commit, while a rebase replays your commits on top of "
    "the target branch so that the history stays a straight line. Merge shared branches and rebase your own local work.",
]

# --- translation: the request names the target language (or only asks to translate) ----------------------------------

TRANSLATIONS: list[tuple[str | None, str, str]] = [  # (system prompt, user, reply), none of them a mismatch
    (None, "请把下面这句话翻译成英文：今天的会议推迟到下午三点，请大家准时参加。",
     "Today's meeting has been moved to three o'clock this afternoon; please be on time."),
    (None, "Translate into Chinese: The library will be closed for renovation until the end of March, and all loans are extended.",
     "图书馆将因装修闭馆到三月底，所有借阅都会自动延期。"),
    (None, "Translate this sentence into French: I would like to book a table for two people tonight, near the window if possible.",
     "Je voudrais réserver une table pour deux personnes ce soir, près de la fenêtre si possible."),
    (None, "Traduis en anglais : il pleut depuis ce matin et les rues du centre-ville sont complètement inondées.",
     "It has been raining since this morning and the streets of the city centre are completely flooded."),
    (None, "Übersetze bitte ins Englische: Der Zug hat wegen eines technischen Defekts heute zwanzig Minuten Verspätung.",
     "Because of a technical fault, the train is running twenty minutes late today."),
    (None, "Translate to Japanese: Thank you so much for your help yesterday; it made a big difference to the whole team.",
     "昨日は手伝ってくれて本当にありがとうございました。チーム全体にとって大きな助けになりました。"),
    (None, "把这句话翻译成日语：我明天要去东京出差，周五晚上回来。",
     "明日から東京に出張して、金曜日の夜に戻ります。"),
    (None, "请翻译成韩语：这家餐厅的服务很好，菜也很好吃，我们下次还会再来。",
     "이 식당은 서비스가 좋고 음식도 정말 맛있어서 다음에 또 올 거예요."),
    (None, "Translate the following into Spanish: The museum opens at nine in the morning and closes at six in the evening.",
     "El museo abre a las nueve de la mañana y cierra a las seis de la tarde."),
    (None, "翻译：天下没有不散的筵席，我们要珍惜在一起的时光。",
     "All good things must come to an end, so we should treasure the time we have together."),
    (None, "Переведи на английский: завтра утром мы поедем на вокзал на такси, потому что метро не работает.",
     "Tomorrow morning we will take a taxi to the station because the metro is not running."),
    ("You are a professional translator. Translate every user message into English.",
     "我们的新产品将在下个月正式上市，欢迎各位到时关注我们的官方网站。",
     "Our new product will officially launch next month; we hope you will keep an eye on our official website."),
    ("你是一名翻译，请把用户说的话翻译成中文。",
     "Please remember to water the plants and feed the cat while I am away on holiday next week.",
     "我下周去度假的时候，请记得给植物浇水，也别忘了喂猫。"),
    ("Always answer in English, whatever language the user writes in.",
     "为什么白天的天空是蓝色的，而日落时却变成了红色？",
     REPLIES["en"][0]),
    ("请始终用中文回答用户的问题。",
     "Can you explain why the sky looks blue during the day but red at sunset?",
     REPLIES["zh"][0]),
    (None, "请用英文回答：复利是怎么计算的？为什么大家都说复利的力量很大？",
     REPLIES["en"][2]),
    (None, "How does compound interest work? Please answer in German.",
     REPLIES["de"][2]),
]

# --- not judged: short replies, numbers, links, code alone ------------------------------------------------------------

NOT_JUDGED: list[tuple[str, str]] = [  # (user, reply) whose reply is too short or holds no words
    ("你能帮我一个忙吗？", "Sure!"),
    ("Can you help me with something?", "当然可以。"),
    ("官方文档的地址是什么？", "https://docs.python.org/3/library/asyncio.html"),
    ("计算一下 123 乘以 456 等于多少？", "123 × 456 = 56088"),
    ("这个函数的返回值是什么类型？", "`Optional[Dict[str, int]]`"),
    ("Quelle est la valeur de pi avec six décimales ?", "3.141593"),
    ("用 Python 写一个函数，判断一个字符串是不是回文。", CODE_BLOCKS[0]),
    ("请帮我写一段 JavaScript 代码，把数组里的重复元素去掉。", CODE_BLOCKS[1]),
    ("What is the capital of Japan?", "東京です。"),
    ("日本的首都是哪里？", "Tokyo."),
    ("Wie spät ist es?", "OK"),
]


@dataclass(frozen=True)
class Labelled:
    record: dict[str, Any]
    mismatch: bool
    kind: str  # same-language, other-language, code, mixed-technical, translation, not-judged


def _record(user: str, reply: str, system: str | None = None) -> dict[str, Any]:
    msgs = [{"role": "system", "content": system}] if system is not None else []
    return {"messages": [*msgs, {"role": "user", "content": user}, {"role": "assistant", "content": reply}]}


def labelled_records(seed: int = SEED, pairs: int = 400) -> list[Labelled]:
    """The labelled set: every kind above, the language pairs drawn with ``seed``."""
    rng = random.Random(seed)
    langs = sorted(PROMPTS)
    out: list[Labelled] = []
    for _ in range(pairs):  # same language: never a mismatch
        lang = rng.choice(langs)
        out.append(Labelled(_record(rng.choice(PROMPTS[lang]), rng.choice(REPLIES[lang])), False, "same-language"))
    for _ in range(pairs):  # another language: always one (the guide's case is zh -> en)
        lang, other = rng.sample(langs, 2)
        if rng.random() < 0.25:
            lang, other = "zh", "en"
        out.append(Labelled(_record(rng.choice(PROMPTS[lang]), rng.choice(REPLIES[other])), True, "other-language"))
    for lang, prompts in CODE_PROMPTS.items():
        for i, prompt in enumerate(prompts):
            for reply_lang, texts in CODE_TEXT.items():
                before, after = texts[i]
                reply = f"{before}\n\n{CODE_BLOCKS[i]}\n\n{after}"
                out.append(Labelled(_record(prompt, reply), reply_lang != lang, "code"))
    for prompt, zh, en in zip(TECH_PROMPTS_ZH, TECH_REPLIES_ZH, TECH_REPLIES_EN):
        out.append(Labelled(_record(prompt, zh), False, "mixed-technical"))
        out.append(Labelled(_record(prompt, en), True, "mixed-technical"))
        out.append(Labelled(_record(rng.choice(PROMPTS["en"]), zh), True, "mixed-technical"))
    for system, user, reply in TRANSLATIONS:
        out.append(Labelled(_record(user, reply, system), False, "translation"))
    for user, reply in NOT_JUDGED:
        out.append(Labelled(_record(user, reply), False, "not-judged"))
    return out


def jsonl(items: list[Labelled]) -> Iterator[str]:
    for item in items:
        yield json.dumps(item.record, ensure_ascii=False)
