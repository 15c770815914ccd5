function layer = transposedConv2dLayer(filterSize, numFilters, varargin)
% TRANSPOSEDCONV2DLAYER  A transposed 2-D convolution layer on tconv.
%
%   layer = transposedConv2dLayer(filterSize, numFilters)
%   layer = transposedConv2dLayer(filterSize, numFilters, Name, Value, ...)
%
% filterSize: h or [h w]; numFilters: the output channels. Name-value
% arguments (case-insensitive, abbreviations allowed): Stride (a or [a b]),
% Cropping ('same', p, [a b] or [t b l r]), NumChannels ('auto' or a
% positive integer), WeightsInitializer ('glorot', 'he', 'narrow-normal',
% 'zeros', 'ones' or a function handle w = f(sz)), BiasInitializer ('zeros',
% 'narrow-normal', 'ones' or a function handle), Weights
% (h x w x NumFilters x NumChannels), Bias (1 x 1 x NumFilters),
% WeightLearnRateFactor, BiasLearnRateFactor, WeightL2Factor (default 1),
% BiasL2Factor (default 0), Name.
%
% Then: layer = initialize(layer, [H W C]); Y = predict(layer, X) for X of
% H x W x C x N in single or double; [dLdX, dLdW, dLdB] = backward(layer,
% X, dLdY); [layer, vel] = sgdmupdate(layer, dLdW, dLdB, vel, lr, mom, l2).
%
% Example:
%   layer = transposedConv2dLayer(11, 96, 'Stride', 4);
%   layer = initialize(layer, [13 13 256]);
%   Y = predict(layer, randn(13, 13, 256, 2, 'single'));   % 59x59x96x2
  if nargin < 2
    error('tconv:transposedConv2dLayer:NotEnoughInputs', ...
          'transposedConv2dLayer: needs filterSize and numFilters, then name-value pairs');
  end
  layer = TransposedConvolution2DLayer(filterSize, numFilters, varargin{:});
end
