function tconv_assert_close(got, want, tol, what)
% TCONV_ASSERT_CLOSE  Sizes equal and max|got - want| <= tol * max(1, max|want|).
  if ~isequal(size(got), size(want))
    error('%s: size %s, expected %s', what, mat2str(size(got)), mat2str(size(want)));
  end
  err = max(abs(double(got(:)) - double(want(:))));
  scale = max(1, max(abs(double(want(:)))));
  if isempty(err), return, end
  if ~(err <= tol * scale)
    error('%s: max error %g exceeds %g (scale %g)', what, err, tol * scale, scale);
  end
end
