function tconv_assert_error(f, id, varargin)
% TCONV_ASSERT_ERROR  f() must raise an error with identifier id whose
% message contains each of varargin (the argument's name, its value).
  try
    f();
  catch err
    if ~strcmp(err.identifier, id)
      error('expected error %s, got %s: %s', id, err.identifier, err.message);
    end
    for i = 1:numel(varargin)
      if isempty(strfind(err.message, varargin{i}))
        error('the message of %s does not name %s: %s', id, varargin{i}, err.message);
      end
    end
    return
  end
  error('expected error %s, but the call succeeded', id);
end
