function v = tconv_text(v)
% TCONV_TEXT  A MATLAB string scalar ("same") as a character vector, so that
% the checks that follow see one kind of text; anything else unchanged.
% (Octave has no string class: its "same" is already a char.)
  if isa(v, 'string') && isscalar(v)
    v = char(v);
  end
end
