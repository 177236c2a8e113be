"""Word lists for ``to_devanagari``: how Hindi writes common words of North Indian names.

Each block is one ``roman devanagari`` pair a line (several Roman spellings may share a line's
Hindi: ``bazar bazaar बाज़ार``). Entries are general vocabulary of addresses and names (English
address words, name stems, endings of village and town names), collected from the development
set, the Baghpat reference file and common usage; never from the held-out set's misses.

* ``WORDS`` are used only for a whole word (English words would be wrong inside a compound).
* ``PIECES`` are name stems and words, used whole or as a part of a compound (Ram|pur).
* ``ENDINGS`` are used only after another part (Kan|pur, Firoz|abad); several may follow each
  other (Ram|pur|khera).
"""


def _table(block: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for line in block.strip().splitlines():
        *romans, devanagari = line.split()
        for roman in romans:
            table[roman] = devanagari
    return table


# English words of addresses and words that stand alone in names.
WORDS = _table("""
road rd रोड
roads रोड्स
roadways रोडवेज
colony calony coloney कॉलोनी
colonies कॉलोनियां
city सिटी
civil सिविल
lines लाइंस
line लाइन
station स्टेशन
railway रेलवे
rly रेलवे
market मार्केट
bazar bazaar baazar बाज़ार
chowk chauk chowck चौक
chauraha chowraha चौराहा
tiraha तिराहा
tehsil tahsil tahseel tehseel तहसील
thana थाना
kotwali कोतवाली
chauki chowki चौकी
police पुलिस
court कोर्ट
kutchery kachahari kachehri kacheri कचहरी
collectorate कलेक्ट्रेट
hospital हॉस्पिटल
school स्कूल
college कॉलेज
university यूनिवर्सिटी
stadium स्टेडियम
sports स्पोर्ट्स
sport स्पोर्ट
park पार्क
garden गार्डन
gardens गार्डंस
enclave एन्क्लेव
extension एक्सटेंशन
extn एक्सटेंशन
phase फेज़
sector सेक्टर
block ब्लॉक
pocket पॉकेट
ward वार्ड
number नंबर
gate गेट
crossing क्रॉसिंग
bypass बाईपास
highway हाईवे
canal कैनाल
bridge ब्रिज
mill मिल
mills मिल्स
sugar शुगर
factory फैक्ट्री
industrial इंडस्ट्रियल
area एरिया
estate एस्टेट
complex कॉम्प्लेक्स
tower टावर
apartment अपार्टमेंट
apartments अपार्टमेंट्स
housing हाउसिंग
board बोर्ड
development डेवलपमेंट
authority अथॉरिटी
transport ट्रांसपोर्ट
bus बस
stand स्टैंड
depot डिपो
jail जेल
cantt कैंट
cantonment कैंटोनमेंट
compound कंपाउंड
mission मिशन
church चर्च
temple टेंपल
model मॉडल
town टाउन
new न्यू
old ओल्ड
east ईस्ट
west वेस्ट
north नॉर्थ
south साउथ
middle मिडिल
central सेंट्रल
upper अपर
lower लोअर
main मेन
dream ड्रीम
green ग्रीन
royal रॉयल
valley वैली
hills हिल्स
heights हाइट्स
residency रेजिडेंसी
defence defense डिफेंस
officers ऑफिसर्स
medical मेडिकल
engineering इंजीनियरिंग
power पावर
house हाउस
water वाटर
works वर्क्स
tank टैंक
mall मॉल
circle सर्किल
club क्लब
cinema सिनेमा
hall हॉल
shopping शॉपिंग
centre center सेंटर
plaza प्लाज़ा
avenue एवेन्यू
street स्ट्रीट
lane लेन
office ऑफिस
bank बैंक
post पोस्ट
quarters क्वार्टर्स
quarter क्वार्टर
public पब्लिक
home होम
hotel होटल
petrol पेट्रोल
pump पंप
ground ग्राउंड
airport एयरपोर्ट
link लिंक
ring रिंग
outer आउटर
plot प्लॉट
flats फ्लैट्स
sainik सैनिक
nursing नर्सिंग
memorial मेमोरियल
smt श्रीमती
kapur kapoor कपूर
mohd md मोहम्मद
dr डॉ
singh सिंह
khurd खुर्द
kalan kalaan कलां
buzurg bujurg बुज़ुर्ग
meerut मेरठ
hapur हापुड़
baraut badaut बड़ौत
khekada khekra khekda खेकड़ा
doghat दोघट
baleni बालैनी
delhi dilli दिल्ली
""")

# Name stems and words: whole, or a part of a compound.
PIECES = _table("""
ram raam राम
shyam श्याम
krishna krishan कृष्ण
shiv shiva शिव
shankar shanker शंकर
ganesh गणेश
hanuman हनुमान
durga दुर्गा
kali काली
lakshmi laxmi लक्ष्मी
saraswati sarswati सरस्वती
ganga गंगा
jamuna जमुना
yamuna यमुना
sita seeta सीता
radha राधा
gopal गोपाल
govind gobind गोविंद
vishnu विष्णु
narayan narain नारायण
mahadev महादेव
mahesh महेश
braham brahm ब्रह्म
brahman brahmin ब्राह्मण
indra inder indar इंद्र
indira इंदिरा
surya surya सूर्य
chandra चंद्र
chand चंद
prem प्रेम
shanti shaanti शांति
vijay vijai विजय
jai jay जय
uttam उत्तम
adarsh आदर्श
arya आर्य
sewa seva सेवा
kalyan कल्याण
hari हरि
har हर
dev deo देव
devi devee देवी
dayanand dayanand दयानंद
daya दया
nand नंद
anand आनंद
gandhi gandi गांधी
nehru नेहरू
azad aazad आज़ाद
aajad आजाद
subhash subash सुभाष
shastri शास्त्री
patel पटेल
tilak तिलक
ambedkar अम्बेडकर
rajendra राजेंद्र
jawahar जवाहर
lajpat लाजपत
shivaji शिवाजी
lohia लोहिया
tagore टैगोर
valmiki वाल्मीकि
balmiki बाल्मीकि
kabir कबीर
tulsi tulasi तुलसी
sant संत
guru गुरु
nanak नानक
gautam गौतम
buddha buddh बुद्ध
mahavir mahaveer महावीर
jain जैन
punjabi panjabi पंजाबी
harijan हरिजन
saini सैनी
tyagi त्यागी
jat jaat जाट
gujar गुजर
thakur thakar ठाकुर
rajput राजपूत
yadav यादव
ahir aheer अहीर
chauhan चौहान
kashyap कश्यप
chaudhary chaudhari chaudhry choudhary chaudhri चौधरी
chaudhran chaudharan chuodharan चौधरान
sharma शर्मा
verma varma वर्मा
gupta गुप्ता
mishra misra मिश्रा
tiwari tiwary तिवारी
pandey पांडेय
pande पांडे
kumar कुमार
prasad prashad प्रसाद
lal laal लाल
das daas दास
nath naath नाथ
pal paal पाल
agarwal agrawal aggarwal अग्रवाल
khan khaan खान
sheikh shekh shaikh शेख
pathan पठान
syed saiyad sayyed सैयद
mirza मिर्ज़ा
mir meer मीर
qazi kazi qaji क़ाज़ी
nawab navab नवाब
begum begam बेगम
sultan सुलतान
shah शाह
jahan जहां
jahangir जहांगीर
akbar अकबर
aurang औरंग
alam आलम
ali अली
hasan hassan हसन
husain hussain हुसैन
ahmad ahmed अहमद
mohammad mohammed muhammad मोहम्मद
jalal जलाल
kamal कमाल
jamal जमाल
rasul rasool रसूल
karim kareem करीम
rahim raheem रहीम
latif lateef लतीफ़
habib habeeb हबीब
ibrahim ibraheem इब्राहिम
ismail इस्माइल
islam इस्लाम
iqbal इक़बाल
nizam निज़ाम
firoz feroz firoj फ़िरोज़
faiz फ़ैज़
farid fareed फ़रीद
zafar jafar ज़फ़र
hazrat हज़रत
imam इमाम
aziz अज़ीज़
abdul अब्दुल
allah अल्लाह
ullah ulla उल्ला
noor nur नूर
uddin uddeen उद्दीन
mubarak mubarik मुबारक
murad morad मुराद
daulat दौलत
sikandar sikander सिकंदर
khalil khaleel ख़लील
salem सलेम
salim saleem सलीम
rashid rasheed राशिद
hamid hameed हामिद
qasim kasim क़ासिम
usman उस्मान
rehman rahman रहमान
mustafa मुस्तफ़ा
yusuf yousuf यूसुफ़
nasir nasir नासिर
jafar जाफ़र
haji हाजी
hafiz हाफ़िज़
fateh fatah फ़तेह
fazal fazl फ़ज़ल
afzal अफ़ज़ल
ashraf अशरफ़
asaf आसफ़
idris idrish इदरीस
sadiq sadik सादिक़
zain ज़ैन
mukarram मुकर्रम
muzaffar मुज़फ़्फ़र
ghazi gazi ग़ाज़ी
ghaus gaus ग़ौस
shamsher शमशेर
sher शेर
jagat जगत
jagdish jagdeesh जगदीश
mohan मोहन
sohan सोहन
madan मदन
kishan किशन
kishor kishore किशोर
lakhan लखन
laxman lakshman लक्ष्मण
bharat भरत
raghu रघु
ramesh रमेश
suresh सुरेश
naresh नरेश
dinesh दिनेश
rajesh राजेश
mukesh मुकेश
rakesh राकेश
mahendra mahender महेंद्र
surendra surender सुरेंद्र
narendra narender नरेंद्र
virendra virender वीरेंद्र
devendra devender देवेंद्र
jitendra jitender जितेंद्र
gyan gian ज्ञान
prakash parkash प्रकाश
om ओम
shri shree sri श्री
raj राज
raja राजा
rani raani रानी
kunwar kanwar कुंवर
bhagat भगत
bhagwan bhagwaan भगवान
bhagwati भगवती
vidya विद्या
vidyawati vidyavati विद्यावती
kamla kamala कमला
vimla vimala विमला
sarojini sarojani सरोजिनी
saroj सरोज
pushpa पुष्पा
usha उषा
asha आशा
sunita सुनीता
anita अनीता
geeta gita गीता
seema sima सीमा
meena mina मीना
savitri सावित्री
gayatri gaytri गायत्री
parvati पार्वती
kailash kelash कैलाश
deendayal dindayal दीनदयाल
dayal दयाल
upadhyay upadhyaya उपाध्याय
pandit pandit पंडित
sanjay sanjai संजय
ajay ajai अजय
amar अमर
amit अमित
ashok asok अशोक
alok आलोक
anil अनिल
sunil सुनील
vinod विनोद
pramod प्रमोद
manoj मनोज
sushil सुशील
satish सतीश
harish हरीश
yogesh योगेश
ravi रवि
kavi कवि
shashi शशि
shekhar शेखर
sudhir sudheer सुधीर
ranjit रंजीत
ajit ajeet अजीत
jeet jit जीत
baldev बलदेव
sukhdev सुखदेव
kuldeep कुलदीप
sandeep संदीप
pradeep प्रदीप
deep दीप
rajiv rajeev राजीव
sanjeev sanjiv संजीव
jeevan jiwan jivan जीवन
puran pooran पूरन
tara तारा
moti मोती
heera hira हीरा
babu baboo बाबू
lala लाला
seth सेठ
sahu साहू
teli तेली
lohar लोहार
kumhar कुम्हार
kumharan कुम्हारान
dhobi धोबी
chamar चमार
jatav जाटव
kori कोरी
mali माली
kahar कहार
kewat केवट
mallah मल्लाह
nishad निषाद
kushwaha कुशवाहा
maurya मौर्य
lodhi लोधी
gosain गोसाईं
goswami गोस्वामी
baba बाबा
mahant महंत
ashram आश्रम
dham धाम
tirth तीर्थ
kund कुंड
sagar saagar सागर
sarovar सरोवर
mandir मंदिर
masjid मस्जिद
dargah दरगाह
idgah eidgah ईदगाह
mazar मज़ार
qila kila क़िला
darwaza दरवाज़ा
dharmshala dharamshala धर्मशाला
sarai सराय
gali गली
marg मार्ग
path पथ
bagh बाग
bagicha बगीचा
van वन
ghat घाट
tal taal ताल
talab talaab तालाब
pokhar पोखर
nahar nehar नहर
shalimar शालीमार
mayur mayoor मयूर
datta dutta दत्ता
datt dutt दत्त
desh देश
bhatnagar भटनागर
siddiqui siddiqi सिद्दीक़ी
harsh हर्ष
janki janaki जानकी
malviya malaviya मालवीय
chandni chandani चांदनी
mahipal महिपाल
prithvi पृथ्वी
walid waleed वलीद
sahai sahay सहाय
chandi चांदी
khand खंड
mansur mansoor मंसूर
subhan सुभान
adam आदम
hilal हिलाल
faulad फ़ौलाद
pradhan प्रधान
kote कोट
abdullah abdulla अब्दुल्ला
vyapar vyaapar व्यापार
nala nalla नाला
pul पुल
teela tila टीला
pahar pahad पहाड़
pahari pahadi पहाड़ी
kot कोट
kothi कोठी
haveli हवेली
ahata ahaata अहाता
pathshala pathsala पाठशाला
sabzi sabji सब्ज़ी
anaj अनाज
ghanta घंटा
ghar घर
purana पुराना
purani पुरानी
naya नया
nayi nai nayee नई
basti बस्ती
mohalla mohallah muhalla मोहल्ला
patti पट्टी
tola टोला
toli टोली
purwa purva पुरवा
dakshini dakshni dakhsini dakshine दक्षिणी
uttari utteary उत्तरी
purvi poorvi पूर्वी
paschimi pashchimi पश्चिमी
madhya मध्य
bada बड़ा
badi बड़ी
chhota chota छोटा
chhoti choti छोटी
khas ख़ास
dehat देहात
sadar सदर
kasba qasba क़स्बा
gram ग्राम
gaon gaanv गांव
shahar shahr शहर
zila jila ज़िला
mandal मंडल
bhawan bhavan भवन
sadan सदन
nagar नगर
nigam निगम
palika पालिका
parishad परिषद
panchayat पंचायत
samiti समिति
kendra केंद्र
mandi मंडी
vihar vihaar विहार
puri पुरी
puram पुरम
avas awas आवास
vikas विकास
nagla nagala नगला
nangal नंगल
majra माजरा
khera kheda खेड़ा
kheri khedi खेड़ी
garhi गढ़ी
tikri टीकरी
kala काला
lalit ललित
jaswant jaswant जसवंत
dhan धन
amrit अमृत
siddharth siddharth सिद्धार्थ
bhadra भद्र
kasim कासिम
mahmud mahmood महमूद
mohammadi मोहम्मदी
kaiser kaisar कैसर
haider haidar हैदर
robert रॉबर्ट
robertson रॉबर्टसन
mathura मथुरा
ayodhya अयोध्या
agra आगरा
bihar बिहार
rawat रावत
saket साकेत
bilas बिलास
vilas विलास
maharaj maharaja महाराज
maha महा
kidwai किदवई
darya dariya दरिया
dwara द्वारा
dwar द्वार
shukla शुक्ला
khatri खत्री
malhotra मल्होत्रा
srivastava shrivastava श्रीवास्तव
rishi ऋषि
brij braj बृज
anirudh anirudhh अनिरुद्ध
madhav माधव
madho माधो
madhavi माधवी
bahadur बहादुर
humayun हुमायूं
babar बाबर
bishun bisun बिशुन
bishan बिशन
bhagwant भगवंत
lakhpat लखपत
lakhan लखन
hamir hameer हमीर
himmat हिम्मत
dilawar दिलावर
sardar सरदार
zamindar jamindar ज़मींदार
chak चक
mafi maafi माफ़ी
jangal jungle जंगल
dehra dehara देहरा
mauza mauja मौज़ा
tappa टप्पा
kuan kuwan कुआं
bhawani bhavani भवानी
kamakhya कामाख्या
sheetla shitla शीतला
chamunda चामुंडा
bhairav bhairo भैरव
kalka कालका
mansa मनसा
jwala ज्वाला
vaishno वैष्णो
balaji बालाजी
khatu खाटू
shyamji श्यामजी
gurudwara gurdwara गुरुद्वारा
masjid मस्जिद
imambara इमामबाड़ा
karbala कर्बला
kabristan qabristan क़ब्रिस्तान
shamshan श्मशान
mela मेला
haat haat हाट
peeth pith पीठ
kashi काशी
hardwar haridwar हरिद्वार
harihar हरिहर
said saiyid सैद
sadat saadat सादात
shams शमस
shikoh शिकोह
najib najeeb नजीब
majid maajid माजिद
gauri gouri गौरी
raghunath रघुनाथ
jagannath जगन्नाथ
vishwanath vishvanath विश्वनाथ
bhola भोला
shatrughan शत्रुघ्न
bajrang बजरंग
sankat संकट
mochan मोचन
ravidas रविदास
raidas रैदास
bhim bheem भीम
hastina हस्तिना
mahal महल
bangla बंगला
chhavni chhawni छावनी
khadar khader खादर
bangar बांगर
viran wiran वीरान
purab poorab पूरब
uttar उत्तर
dakshin दक्षिण
nehar नहर
azam aazam आज़म
pratap partap प्रताप
ghanshyam घनश्याम
mughal mugal मुग़ल
afghan अफ़ग़ान
sinha सिन्हा
mehta मेहता
shakti शक्ति
shatabdi शताब्दी
phool phul फूल
anup anoop अनूप
bigha बीघा
bans baans बांस
dera डेरा
wara wada वाड़ा
kanungo qanungo कानूनगो
jagriti जागृति
parikshit परीक्षित
chitra चित्र
govardhan gowardhan गोवर्धन
roberts रॉबर्ट्स
garh गढ़
ganj गंज
suraj sooraj सूरज
jaya जया
lata लता
rama रमा
uma उमा
manju मंजू
anju अंजू
sandhya संध्या
chanda चंदा
nanda नंदा
mohit मोहित
rohit रोहित
sumit सुमित
nitin नितिन
sachin सचिन
kapil कपिल
nikhil निखिल
sahil साहिल
aman अमन
pawan pavan पवन
gagan गगन
chaman चमन
raman रमन
abhay abhai अभय
arun अरुण
arjun अर्जुन
tanda टांडा
""")

# Endings of village and town names: only after another part.
ENDINGS = _table("""
pur poor पुर
pura poora पुरा
puri poori पुरी
puram पुरम
purwa purva पुरवा
nagar nagr नगर
nagari nagri नगरी
ganj gunj गंज
garh गढ़
garhi गढ़ी
abad aabad आबाद
khera kheda खेड़ा
kheri khedi खेड़ी
gaon gaanv गांव
majra माजरा
wala vala वाला
wali vali वाली
walan वालान
kot कोट
bagh बाग
mau मऊ
ghat घाट
dih deeh डीह
patti पट्टी
sarai सराय
sagar सागर
mandi मंडी
gram ग्राम
ullah ulla उल्ला
ji जी
ram राम
pal paal पाल
uddin uddeen उद्दीन
raj राज
bad बाद
iyan iyaan इयान
koot kut कूट
tal taal ताल
khana khaana खाना
para पारा
diha deeha डीहा
nath naath नाथ
deo dev देव
""")

# Letter names, for initials and words without a vowel (RF, BKT).
LETTERS = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        ("ए बी सी डी ई एफ़ जी एच आई जे के एल एम एन ओ पी क्यू आर एस टी यू वी डब्ल्यू एक्स वाई ज़ेड").split(),
        strict=True,
    )
)
