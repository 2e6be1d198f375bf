pub struct NormaliseOptions; pub fn normalise(){}
