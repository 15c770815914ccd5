function Y = dltranspconv(X, weights, bias, varargin)
% DLTRANSPCONV  Transposed 2-D convolution of SSCB data, on tconv.
%
%   Y = dltranspconv(X, weights, bias)
%   Y = dltranspconv(X, weights, bias, 'Stride', s, 'Cropping', c, ...
%                    'DilationFactor', d, 'NumGroups', g)
%
% X: H x W x C x N ("SSCB", or H x W x C, "SSC"), single or double.
% weights: kh x kw x F x C, or kh x kw x F/g x C/g x g for g groups.
% bias: [] or 0 (none), a scalar (every filter), or F values.
% Stride and DilationFactor: a or [a b] (default 1); Cropping: 'same', p,
% [a b] or [t b l r] (default 0); NumGroups: the groups, which must agree
% with size(weights, 5) (default: size(weights, 5)). Names are
% case-insensitive and may be abbreviated. Y is of X's class; weights and
% bias are converted to it.
  fn = 'dltranspconv';
  if nargin < 3
    error('tconv:dltranspconv:NotEnoughInputs', '%s: needs X, weights and bias', fn);
  end
  opts = tconv_nv(varargin, {'Stride', 'Cropping', 'DilationFactor', 'NumGroups'}, fn);
  stride = [1 1];
  dilation = [1 1];
  cropping = [0 0 0 0];
  if isfield(opts, 'Stride')
    stride = tconv_int(opts.Stride, 'Stride', fn, [1 2], 1);
  end
  if isfield(opts, 'DilationFactor')
    dilation = tconv_int(opts.DilationFactor, 'DilationFactor', fn, [1 2], 1);
  end
  if isfield(opts, 'Cropping')
    cropping = tconv_crop(opts.Cropping, fn);
  end
  if isscalar(stride), stride = [stride stride]; end
  if isscalar(dilation), dilation = [dilation dilation]; end

  if ~isfloat(X) || ~isreal(X) || issparse(X) || ndims(X) > 4 || isempty(X)
    error('tconv:dltranspconv:InvalidInput', ...
          '%s: X must be a nonempty real single or double H-by-W-by-C-by-N array, not %s', ...
          fn, tconv_fmt(X));
  end
  if ~isfloat(weights) || ~isreal(weights) || issparse(weights) || ndims(weights) > 5 || ...
     isempty(weights)
    error('tconv:dltranspconv:InvalidWeights', ...
          '%s: weights must be a nonempty real single or double kh-by-kw-by-F/g-by-C/g-by-g array, not %s', ...
          fn, tconv_fmt(weights));
  end
  groups = size(weights, 5);
  if isfield(opts, 'NumGroups')
    g = tconv_int(opts.NumGroups, 'NumGroups', fn, 1, 1);
    if g ~= groups
      error('tconv:dltranspconv:InvalidNumGroups', ...
            '%s: NumGroups is %d but weights has %d groups (size(weights, 5))', fn, g, groups);
    end
  end
  C = size(X, 3);
  if size(weights, 4) * groups ~= C
    error('tconv:dltranspconv:NumChannelsMismatch', ...
          '%s: X has %d channels but weights expects %d (size(weights, 4) * %d groups)', ...
          fn, C, size(weights, 4) * groups, groups);
  end
  F = size(weights, 3) * groups;
  if isempty(bias) || (isscalar(bias) && isnumeric(bias) && bias == 0)
    bias = [];
  elseif ~isfloat(bias) || ~isreal(bias) || issparse(bias) || ~(isscalar(bias) || numel(bias) == F)
    error('tconv:dltranspconv:InvalidBias', ...
          '%s: bias must be [], a scalar or %d values (one per filter), not %s', fn, F, tconv_fmt(bias));
  elseif isscalar(bias)
    bias = repmat(bias, 1, 1, F);
  end
  cls = class(X);
  bias = reshape(cast(bias, cls), 1, 1, []);
  cfg = tconv_cfg(size(X), [size(weights, 1) size(weights, 2)], F, stride, dilation, groups, ...
                  cropping);
  Y = tconv_mex('forward', cfg, X, cast(weights, cls), bias);
end
